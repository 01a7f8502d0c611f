using NoiseKD.Distributed;
using NoiseKD.Optim;
using NoiseKD.Tensors;

namespace NoiseKD.Training;

/// <summary>One update from a loss: zero the gradients, backpropagate, refuse a non-finite loss, step and schedule.</summary>
public static class OptimizerStep
{
    /// <param name="where">e.g. "training loss at epoch 3, batch 12", for the error message</param>
    /// <param name="parallel">data-parallel ranks: gradients averaged over them, and the loss checked on all (a NaN on one stops every rank)</param>
    /// <returns>the loss value (with ranks, the mean of theirs: the global batch's)</returns>
    public static float Take(Tensor loss, Optimizer optimizer, LrSchedule? schedule, Func<string> where, DataParallel? parallel = null)
    {
        optimizer.ZeroGrad();
        float value;
        if (parallel is null)
        {
            loss.Backward();
            value = loss.Item();
        }
        else value = parallel.Backward(loss, optimizer);
        if (!float.IsFinite(value))
            throw new NonFiniteLossException($"{where()} became {value}{(parallel is null ? "" : " (on at least one rank)")}; the last good checkpoint is kept (try a lower --lr)");
        optimizer.Step();
        schedule?.Step();
        return value;
    }
}
