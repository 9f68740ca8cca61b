namespace VolunteerCloud.Api;

// The bodies of the volunteer daemon's HTTP API (/v1), as vchost writes them and vc reads them: one definition for
// both sides, so a field renamed on one cannot be silently missing on the other. JSON with the web defaults (camelCase).

/// <summary>A replica as the cluster reports it.</summary>
public sealed record ReplicaInfo(string Replica, int Slot, int Node, string? Address, bool Running);

/// <summary>An app: its desired state and where its replicas run.</summary>
public sealed record AppInfo(string Name, string Image, int Replicas, int Running, double Cpus, long MemoryBytes, IReadOnlyList<string> Ports, IReadOnlyList<ReplicaInfo> Placement);

/// <summary>A member as this node sees it.</summary>
public sealed record MemberInfo(int Id, string State, uint Incarnation, string Address, int ApiPort, int Region, int CpuMillicores, int MemoryMegabytes);

/// <summary>This node.</summary>
public sealed record NodeInfo(int Id, string Address, int ApiPort, bool Leaving, double CapacityCpus, long CapacityMemoryBytes, double AllocatedCpus, long AllocatedMemoryBytes, int Containers, IReadOnlyList<string> Stewarded, int Members, string? Cluster);

/// <summary>What a deploy, scale or remove did.</summary>
public sealed record ChangeResult(IReadOnlyList<string> Apps, string Message);

/// <summary>The keys a node holds (ids only), the primary first.</summary>
public sealed record KeyringInfo(IReadOnlyList<string> Keys, string? Primary);

/// <summary>A key to install, base64.</summary>
public sealed record KeyRequest(string? Key);

/// <summary>An error: what went wrong and what to do.</summary>
public sealed record ApiError(string Error);
