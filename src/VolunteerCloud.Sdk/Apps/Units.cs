using System.Globalization;

namespace VolunteerCloud.Apps;

/// <summary>The duration and size notations of Compose files (and of the simulator's experiment definitions).</summary>
public static class Units
{
    /// <summary>
    /// Parses a duration: <c>1h30m</c>, <c>10s</c>, <c>500ms</c>, <c>2us</c> (units h, m, s, ms, us, and d when
    /// <paramref name="allowDays"/>), or a bare number of seconds. Negative or empty values are refused.
    /// </summary>
    public static bool TryParseDuration(string text, bool allowDays, out TimeSpan duration)
    {
        ArgumentNullException.ThrowIfNull(text);
        duration = TimeSpan.Zero;
        text = text.Trim();
        if (text.Length == 0)
        {
            return false;
        }

        if (double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var bare))
        {
            if (!(bare >= 0) || bare > TimeSpan.MaxValue.TotalSeconds / 2)
            {
                return false;
            }

            duration = TimeSpan.FromSeconds(bare);
            return true;
        }

        var total = 0.0; // seconds
        for (var i = 0; i < text.Length;)
        {
            var start = i;
            while (i < text.Length && (char.IsAsciiDigit(text[i]) || text[i] == '.'))
            {
                i++;
            }

            var unitStart = i;
            while (i < text.Length && char.IsAsciiLetter(text[i]))
            {
                i++;
            }

            if (!double.TryParse(text.AsSpan(start, unitStart - start), NumberStyles.Float, CultureInfo.InvariantCulture, out var amount))
            {
                return false;
            }

            var unit = text[unitStart..i] switch
            {
                "d" when allowDays => 86_400.0,
                "h" => 3_600.0,
                "m" => 60.0,
                "s" => 1.0,
                "ms" => 1e-3,
                "us" => 1e-6,
                _ => double.NaN,
            };
            if (double.IsNaN(unit))
            {
                return false;
            }

            total += amount * unit;
        }

        if (!(total <= TimeSpan.MaxValue.TotalSeconds / 2))
        {
            return false;
        }

        duration = TimeSpan.FromSeconds(total);
        return true;
    }

    /// <summary>Parses a size: a number of bytes, or a number with b, k, kb, m, mb, g, gb (powers of 1024), any case.</summary>
    public static bool TryParseBytes(string text, out long bytes)
    {
        ArgumentNullException.ThrowIfNull(text);
        bytes = 0;
        text = text.Trim().ToLowerInvariant();
        var digits = 0;
        while (digits < text.Length && (char.IsAsciiDigit(text[digits]) || text[digits] == '.'))
        {
            digits++;
        }

        var multiplier = text[digits..] switch
        {
            "" or "b" => 1L,
            "k" or "kb" => 1L << 10,
            "m" or "mb" => 1L << 20,
            "g" or "gb" => 1L << 30,
            _ => 0L,
        };
        if (multiplier == 0 || !double.TryParse(text.AsSpan(0, digits), NumberStyles.Float, CultureInfo.InvariantCulture, out var amount) || !(amount * multiplier < long.MaxValue / 2))
        {
            return false;
        }

        bytes = (long)(amount * multiplier);
        return true;
    }
}
