using Microsoft.Extensions.Options;

namespace VolunteerCloud.Membership;

/// <summary>Options that can list their own errors; used both directly and through <see cref="IValidateOptions{TOptions}"/>.</summary>
public interface ISelfValidatingOptions
{
    /// <summary>Every problem with the options, each naming the option and its allowed range; empty when valid.</summary>
    IEnumerable<string> Validate();
}

/// <summary>Checks self-validating options when they are first used (and at host start with ValidateOnStart).</summary>
internal sealed class SelfValidatingOptionsValidator<TOptions> : IValidateOptions<TOptions>
    where TOptions : class, ISelfValidatingOptions
{
    public ValidateOptionsResult Validate(string? name, TOptions options)
    {
        var errors = options.Validate().ToList();
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}

internal static class OptionsGuard
{
    /// <summary>Throws <see cref="ArgumentException"/> listing every problem, for options passed directly.</summary>
    public static TOptions EnsureValid<TOptions>(TOptions options)
        where TOptions : ISelfValidatingOptions
    {
        ArgumentNullException.ThrowIfNull(options);
        var errors = options.Validate().ToList();
        return errors.Count == 0
            ? options
            : throw new ArgumentException($"Invalid {typeof(TOptions).Name}: {string.Join("; ", errors)}", nameof(options));
    }

    public static IEnumerable<string> Positive(TimeSpan value, string name) =>
        value > TimeSpan.Zero ? [] : [$"{name} must be positive (got {value})."];

    public static IEnumerable<string> AtLeast(int value, int minimum, string name) =>
        value >= minimum ? [] : [$"{name} must be at least {minimum} (got {value})."];
}
