using System.Reflection;
using System.Runtime.ExceptionServices;
using NoiseKD.Tests.Ops;
using Xunit;
using Xunit.Sdk;

namespace NoiseKD.Tests.Ilgpu;

/// <summary>
/// The op tests of these classes (every [Theory] row: float64 reference, finite differences, the
/// float32 op forward and backward) rerun with the fast op on ILGPU's CPU accelerator (ilgpu-cpu) through
/// <see cref="OpCheck.UseBackend"/>, so each differentiable op is checked on ILGPU by exactly the
/// test that checks it on the CPU.
/// </summary>
public class IlgpuOpTests
{
    static readonly Type[] Suites =
        [typeof(ConvOpTests), typeof(BatchNormOpTests), typeof(PoolOpTests), typeof(ElementwiseOpTests), typeof(LinearOpTests),
         typeof(LossOpTests), typeof(ShapeOpTests)];

    /// <summary>(suite, test, row of its data, the row's arguments for the test name).</summary>
    public static TheoryData<string, string, int, string> Rows
    {
        get
        {
            var rows = new TheoryData<string, string, int, string>();
            foreach (var suite in Suites)
                foreach (var method in suite.GetMethods().Where(m => m.GetCustomAttribute<TheoryAttribute>() is not null))
                {
                    var data = Data(method);
                    for (int i = 0; i < data.Count; i++)
                        rows.Add(suite.Name, method.Name, i, string.Join(", ", data[i].Select(Format)));
                }
            return rows;
        }
    }

    [Theory]
    [MemberData(nameof(Rows))]
    public void OnIlgpuCpu(string suite, string test, int row, string arguments)
    {
        _ = arguments; // shown in the test's name only
        var type = Suites.Single(t => t.Name == suite);
        var method = type.GetMethod(test)!;
        using var scope = OpCheck.UseBackend(IlgpuDevice.Lean);
        try
        {
            method.Invoke(Activator.CreateInstance(type), Data(method)[row]);
        }
        catch (TargetInvocationException e) when (e.InnerException is not null)
        {
            ExceptionDispatchInfo.Capture(e.InnerException).Throw();
        }
        Assert.True(scope.Uses > 0, $"{suite}.{test} ran no OpCheck, so nothing ran on ilgpu-cpu");
    }

    static List<object?[]> Data(MethodInfo method)
        => method.GetCustomAttributes<DataAttribute>().SelectMany(d => d.GetData(method)).ToList();

    static string Format(object? value) => value switch
    {
        null => "null",
        Array array => "[" + string.Join(", ", array.Cast<object?>().Select(Format)) + "]",
        _ => Convert.ToString(value, System.Globalization.CultureInfo.InvariantCulture) ?? "",
    };
}
