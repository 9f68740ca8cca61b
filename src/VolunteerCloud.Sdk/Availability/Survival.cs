namespace VolunteerCloud.Availability;

/// <summary>The survival maths of residual-uptime prediction (Weibull fits and residual means), without dependencies.</summary>
internal static class Survival
{
    /// <summary>
    /// E[X − a | X &gt; a] for X ~ Weibull(shape k, scale λ): (λ/k)·e^z·Γ(1/k, z), z = (a/λ)^k, computed without
    /// cancellation (series below z = s + 1, Lentz's continued fraction above).
    /// </summary>
    public static double WeibullResidualMean(double shape, double scale, double age)
    {
        var z = age <= 0 ? 0 : Math.Pow(age / scale, shape);
        return scale / shape * ScaledUpperGamma(1 / shape, z);
    }

    /// <summary>e^z·Γ(s, z), the upper incomplete gamma function scaled by e^z (s &gt; 0, z ≥ 0).</summary>
    public static double ScaledUpperGamma(double s, double z)
    {
        if (z < s + 1)
        {
            // Γ(s, z) = Γ(s) − γ(s, z); γ(s, z) = e^−z z^s Σ z^n / (s (s+1) … (s+n)).
            double sum = 1 / s, term = 1 / s;
            for (var n = 1; n < 500; n++)
            {
                term *= z / (s + n);
                sum += term;
                if (term < sum * 1e-16)
                {
                    break;
                }
            }

            return (Math.Exp(z + LogGamma(s)) - (Math.Pow(z, s) * sum));
        }

        // Γ(s, z) = e^−z z^s · 1/(z+1−s− 1(1−s)/(z+3−s− 2(2−s)/(z+5−s− …))), by the modified Lentz method.
        const double tiny = 1e-300;
        var b = z + 1 - s;
        var c = 1 / tiny;
        var d = 1 / b;
        var h = d;
        for (var i = 1; i < 500; i++)
        {
            var an = -i * (i - s);
            b += 2;
            d = (an * d) + b;
            d = Math.Abs(d) < tiny ? tiny : d;
            c = b + (an / c);
            c = Math.Abs(c) < tiny ? tiny : c;
            d = 1 / d;
            var delta = d * c;
            h *= delta;
            if (Math.Abs(delta - 1) < 1e-15)
            {
                break;
            }
        }

        return Math.Exp((s * Math.Log(z)) + Math.Log(h));
    }

    /// <summary>ln Γ(x) for x &gt; 0 (Lanczos, g = 7, 9 terms; relative error below 1e-14).</summary>
    public static double LogGamma(double x)
    {
        ReadOnlySpan<double> g =
        [
            0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059,
            12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7,
        ];
        if (x < 0.5)
        {
            return Math.Log(Math.PI / Math.Abs(Math.Sin(Math.PI * x))) - LogGamma(1 - x);
        }

        x -= 1;
        var a = g[0];
        var t = x + 7.5;
        for (var i = 1; i < 9; i++)
        {
            a += g[i] / (x + i);
        }

        return (0.5 * Math.Log(2 * Math.PI)) + ((x + 0.5) * Math.Log(t)) - t + Math.Log(a);
    }

    /// <summary>
    /// Maximum-likelihood Weibull fit (shape, scale): the shape solves Σ x^k ln x / Σ x^k − 1/k − mean(ln x) = 0,
    /// increasing in k, by bisection on [0.02, 50]; scale = (Σ x^k / n)^(1/k). Samples all equal give shape 50.
    /// </summary>
    /// <exception cref="ArgumentException">Fewer than two samples, or one not positive.</exception>
    public static (double Shape, double Scale) FitWeibull(ReadOnlySpan<double> samples)
    {
        if (samples.Length < 2)
        {
            throw new ArgumentException($"A Weibull fit needs at least two samples (got {samples.Length}).", nameof(samples));
        }

        var max = 0.0;
        foreach (var x in samples)
        {
            if (!(x > 0) || !double.IsFinite(x))
            {
                throw new ArgumentException($"Samples must be positive and finite (got {x}).", nameof(samples));
            }

            max = Math.Max(max, x);
        }

        var meanLog = 0.0;
        foreach (var x in samples)
        {
            meanLog += Math.Log(x / max);
        }

        meanLog /= samples.Length;
        double low = 0.02, high = 50;
        if (Score(samples, max, meanLog, high) < 0)
        {
            low = high;
        }

        for (var i = 0; i < 100 && high - low > 1e-10 * high; i++)
        {
            var mid = Math.Sqrt(low * high);
            if (Score(samples, max, meanLog, mid) < 0)
            {
                low = mid;
            }
            else
            {
                high = mid;
            }
        }

        var shape = Math.Sqrt(low * high);
        var sum = 0.0;
        foreach (var x in samples)
        {
            sum += Math.Pow(x / max, shape);
        }

        return (shape, Math.Pow(sum / samples.Length, 1 / shape) * max);
    }

    private static double Score(ReadOnlySpan<double> samples, double max, double meanLog, double k)
    {
        double sum = 0, weighted = 0;
        foreach (var x in samples)
        {
            var y = x / max;
            var p = Math.Pow(y, k);
            sum += p;
            weighted += p * Math.Log(y);
        }

        return (weighted / sum) - (1 / k) - meanLog;
    }
}
