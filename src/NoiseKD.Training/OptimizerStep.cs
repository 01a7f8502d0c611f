using NoiseKD.Optim;
using NoiseKD.Tensors;

namespace NoiseKD.Training;

/// <summary>One update from a loss: zero the gradients, backpropagate, refuse a non-finite loss, step and schedule.</summary>
public static class OptimizerStep
{
    /// <param name="where">e.g. "training loss at epoch 3, batch 12", for the error message</param>
    /// <returns>the loss value</returns>
    public static float Take(Tensor loss, Optimizer optimizer, LrSchedule? schedule, Func<string> where)
    {
        optimizer.ZeroGrad();
        loss.Backward();
        float value = loss.Item();
        if (!float.IsFinite(value))
            throw new NonFiniteLossException($"{where()} became {value}; the last good checkpoint is kept (try a lower --lr)");
        optimizer.Step();
        schedule?.Step();
        return value;
    }
}
