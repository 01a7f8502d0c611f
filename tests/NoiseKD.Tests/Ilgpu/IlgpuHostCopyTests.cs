using Xunit;
using NoiseKD.Backends.Ilgpu;

namespace NoiseKD.Tests.Ilgpu;

/// <summary>
/// Host copies under a moving garbage collector. ILGPU's CopyToCPU/CopyFromCPU(ref T) take the address of
/// the first element and expect pinned memory; a compacting collection during the copy used to leave the
/// new array all zeros (the data went to where the array had been). That is the "err 1.0" that the
/// 65x130x67 SGEMM conformance cases showed now and then under a busy test run (issue #19).
/// </summary>
public class IlgpuHostCopyTests
{
    [Fact]
    public void DownloadAndUploadSurviveCompactingCollections()
    {
        var backend = IlgpuDevice.Lean;
        const int length = 9_000; // 36 KB: below the large-object heap, so the collector moves it
        var values = new float[length];
        for (int i = 0; i < length; i++) values[i] = i + 1;
        using var device = backend.Allocate(length);
        using var stop = new CancellationTokenSource();
        var collector = new Thread(() =>
        {
            while (!stop.IsCancellationRequested)
            {
                var garbage = new byte[4096]; // keep gen0 full of movable objects
                GC.KeepAlive(garbage);
                GC.Collect(0, GCCollectionMode.Forced, blocking: true, compacting: true);
            }
        }) { IsBackground = true };
        collector.Start();
        int bad = 0;
        try
        {
            for (int round = 0; round < 200 && bad == 0; round++)
            {
                var source = (float[])values.Clone();
                backend.Upload(source, device, 0);
                var host = new float[length];
                backend.Download(device, 0, host);
                for (int i = 0; i < length; i++)
                    if (host[i] != i + 1) { bad = round + 1; break; }
            }
        }
        finally
        {
            stop.Cancel();
            collector.Join();
        }
        Assert.True(bad == 0, $"round {bad}: the downloaded array differs from the uploaded one");
    }
}
