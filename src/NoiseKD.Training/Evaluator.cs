using NoiseKD.Autograd;
using NoiseKD.Backends;
using NoiseKD.Data;
using NoiseKD.Functional;
using NoiseKD.Nn;
using NoiseKD.Tensors;

namespace NoiseKD.Training;

public sealed record EvalResult(double Accuracy, double Loss, int Samples);

/// <summary>Accuracy and mean cross-entropy of a model on a dataset, in eval mode, without gradients.</summary>
public static class Evaluator
{
    /// <param name="statistics">BatchNorm statistics to evaluate with: Running (PyTorch eval) or Current (batch statistics, buffers untouched).</param>
    /// <param name="shares">In a data-parallel job: each rank evaluates every Size-th test batch (rank r batches r, r + Size, ...)
    /// and the counts and loss sums are added in rank order, so every rank gets the same result, that of one process up
    /// to the order of the loss sum (the batches are the same, so current statistics see the same images).</param>
    public static EvalResult Evaluate(Module model, Dataset data, Normalization normalization, int batchSize,
                                      BnStatistics statistics = BnStatistics.Running, IBackend? device = null, NoiseKD.Distributed.DataParallel? shares = null)
    {
        bool wasTraining = model.Training;
        model.Eval();
        using var bn = BnControl.Override(model, statistics, updateRunning: false);
        using var _ = Tape.NoGrad();
        long correct = 0;
        double lossSum = 0;
        var loader = new DataLoader(data, batchSize, normalization);
        int index = 0;
        foreach (var batch in loader.Epoch(0))
        {
            if (shares is not null && index++ % shares.Size != shares.Rank) continue;
            using var scope = new TensorScope();
            var x = Tensor.FromArray(batch.ImageData, batch.Shape, device);
            var logits = model.Forward(x);
            lossSum += F.CrossEntropy(logits, batch.LabelData).Item() * batch.Count;
            correct += CountCorrect(logits.ToArray(), batch.LabelData, logits.Shape[1]);
        }
        model.Train(wasTraining);
        if (shares is not null)
        {
            correct = (long)shares.SumInRankOrder(correct, "the evaluation's correct count");
            lossSum = shares.SumInRankOrder(lossSum, "the evaluation's loss sum");
        }
        return new EvalResult((double)correct / data.Count, lossSum / data.Count, data.Count);
    }

    public static int CountCorrect(ReadOnlySpan<float> logits, ReadOnlySpan<int> labels, int classes)
    {
        int correct = 0;
        for (int i = 0; i < labels.Length; i++)
            if (ArgMax(logits.Slice(i * classes, classes)) == labels[i]) correct++;
        return correct;
    }

    public static int ArgMax(ReadOnlySpan<float> row)
    {
        int best = 0;
        for (int j = 1; j < row.Length; j++) if (row[j] > row[best]) best = j;
        return best;
    }
}
