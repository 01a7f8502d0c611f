namespace NoiseKD.Backends.Cpu;

/// <summary>
/// op(B) = the im2col matrix of a <see cref="PhaseSplitImages"/> copy (rows = taps (c, kh, kw),
/// columns = output pixels (img, oh, ow)), written straight into SGEMM's packed-B slivers for the
/// forward pass. A sliver's columns fall into a few output rows; each is one contiguous slice per
/// tap, so packing is vector copies at precomputed offsets.
/// </summary>
internal readonly unsafe struct PhaseSplitColumns(PhaseSplitImages images, float* xp) : Sgemm.IPackB
{
    public void Pack(int pc, int jc, int kc, int nc, float* dst)
    {
        const int NR = Sgemm.NR;
        int outW = images.OutW, outHW = images.OutH * outW;
        long* offsets = stackalloc long[kc];
        for (int t = 0; t < kc; t++) offsets[t] = images.TapOffset(pc + t);
        var runs = stackalloc (int Column, long Start, int Length)[NR];
        for (int s0 = 0; s0 < nc; s0 += NR)
        {
            int nr = Math.Min(NR, nc - s0), count = 0;
            int j = jc + s0, img = j / outHW, oh = j % outHW / outW, ow = j % outW;
            for (int col = 0; col < nr;)
            {
                int length = Math.Min(nr - col, outW - ow);
                runs[count++] = (col, images.RowOffset(img, oh) + ow, length);
                col += length;
                ow += length;
                if (ow == outW) { ow = 0; if (++oh == images.OutH) { oh = 0; img++; } }
            }
            float* sliver = dst + (long)s0 * kc;
            for (int t = 0; t < kc; t++)
            {
                float* row = sliver + t * NR, tap = xp + offsets[t];
                for (int r = 0; r < count; r++) PhaseSplitImages.Copy(row + runs[r].Column, tap + runs[r].Start, runs[r].Length);
                RowOps.Zero(row + nr, NR - nr);
            }
        }
    }
}

/// <summary>
/// op(B) = the transpose of <see cref="PhaseSplitColumns"/> (rows = output pixels (img, oh, ow),
/// columns = taps), packed for backward weight without writing the im2col matrix: the k range is
/// split at output rows, within which every tap's slice is contiguous.
/// </summary>
internal readonly unsafe struct PhaseSplitRows(PhaseSplitImages images, float* xp) : Sgemm.IPackB
{
    public void Pack(int pc, int jc, int kc, int nc, float* dst)
    {
        int outW = images.OutW, outHW = images.OutH * outW;
        long* offsets = stackalloc long[nc];
        for (int t = 0; t < nc; t++) offsets[t] = images.TapOffset(jc + t);
        for (int k = 0; k < kc;)
        {
            int j = pc + k, img = j / outHW, oh = j % outHW / outW, ow = j % outW, length = Math.Min(kc - k, outW - ow);
            SgemmPack.TransposedSlices(xp + images.RowOffset(img, oh) + ow, offsets, k, length, kc, nc, dst);
            k += length;
        }
    }
}
