namespace VolunteerCloud.ControlPlane;

/// <summary>Makes a churn handler for each node.</summary>
public interface IChurnHandlerFactory
{
    /// <summary>A new handler instance for one node.</summary>
    IChurnHandler Create();
}

/// <summary>A factory from a delegate.</summary>
/// <param name="create">Makes one handler.</param>
public sealed class ChurnHandlerFactory(Func<IChurnHandler> create) : IChurnHandlerFactory
{
    /// <inheritdoc />
    public IChurnHandler Create() => create() ?? throw new InvalidOperationException("The churn handler factory returned null.");
}
