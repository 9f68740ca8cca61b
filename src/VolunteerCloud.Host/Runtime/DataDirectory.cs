using System.Security.Cryptography;

namespace VolunteerCloud.Host.Runtime;

/// <summary>
/// Every file the daemon keeps between lives, in <see cref="VolunteerOptions.DataDirectory"/> (default
/// <c>/var/lib/vchost</c>), named and written in one place:
/// <list type="table">
/// <item><term><c>cluster-member</c></term><description>this node has synced the desired state with a peer (<see cref="IsClusterMember"/>)</description></item>
/// <item><term><c>desired-state</c></term><description>the desired state and the cluster's id (<see cref="KeptDesiredState"/>)</description></item>
/// <item><term><c>peers</c></term><description>members seen alive, to rejoin through (<see cref="KeptPeers"/>)</description></item>
/// <item><term><c>pulled-images.txt</c></term><description>the images this daemon pulled, for its disk share (<see cref="Docker.ImageCache"/>)</description></item>
/// <item><term><c>admin-token</c></term><description>the API's admin token, made at the first start unless tokens are configured (mode 0600)</description></item>
/// </list>
/// To start a new cluster from a machine that was in one, delete <c>cluster-member</c>, <c>desired-state</c> and <c>peers</c>.
/// </summary>
internal sealed class DataDirectory(string path)
{
    /// <summary>The directory.</summary>
    public string Path { get; } = path;

    /// <summary>The marker that this node has synced with a peer.</summary>
    public string ClusterMemberFile => File("cluster-member");

    /// <summary>The kept desired state.</summary>
    public string DesiredStateFile => File("desired-state");

    /// <summary>The kept members.</summary>
    public string PeersFile => File("peers");

    /// <summary>The images this daemon pulled.</summary>
    public string PulledImagesFile => File("pulled-images.txt");

    /// <summary>The API's admin token.</summary>
    public string AdminTokenFile => File("admin-token");

    /// <summary>
    /// Whether this node has synced the desired state with a peer, in this life or an earlier one: after a restart it
    /// then waits to sync again rather than take its empty state for the whole and found a cluster of its own.
    /// </summary>
    public bool IsClusterMember => System.IO.File.Exists(ClusterMemberFile);

    /// <summary>Creates the directory, or says in one line why the daemon cannot write there.</summary>
    /// <exception cref="InvalidOperationException">The directory cannot be created.</exception>
    public void Ensure()
    {
        try
        {
            Directory.CreateDirectory(Path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new InvalidOperationException($"Cannot write to Volunteer:DataDirectory '{Path}' ({e.Message}); set it to a directory the daemon may write to.", e);
        }
    }

    /// <summary>Writes the <see cref="ClusterMemberFile"/> marker.</summary>
    /// <exception cref="IOException">The file cannot be written.</exception>
    /// <exception cref="UnauthorizedAccessException">The directory is not writable.</exception>
    public void MarkClusterMember(NodeId self)
    {
        Directory.CreateDirectory(Path);
        System.IO.File.WriteAllText(ClusterMemberFile, $"{self}: synced the desired state with a peer; after a restart this node waits to sync again rather than start a cluster of its own (to start a new cluster, delete this file, desired-state and peers)\n");
    }

    /// <summary>The admin token this daemon made at its first start (32 random bytes as hex, mode 0600), made now if there is none.</summary>
    public string AdminToken()
    {
        var file = AdminTokenFile;
        if (!System.IO.File.Exists(file))
        {
            Directory.CreateDirectory(Path);
            System.IO.File.WriteAllText(file, Convert.ToHexString(RandomNumberGenerator.GetBytes(32)).ToLowerInvariant());
            if (!OperatingSystem.IsWindows())
            {
                System.IO.File.SetUnixFileMode(file, UnixFileMode.UserRead | UnixFileMode.UserWrite);
            }
        }

        return System.IO.File.ReadAllText(file).Trim();
    }

    /// <summary>Writes a file whole or not at all: a new file, flushed to disk, then renamed over the old one; on failure the old file is untouched and the partial new one removed.</summary>
    public static void WriteAtomically(string file, ReadOnlySpan<byte> bytes)
    {
        var temporary = file + ".new";
        try
        {
            Directory.CreateDirectory(System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(file))!);
            using (var stream = new FileStream(temporary, FileMode.Create, FileAccess.Write, FileShare.None))
            {
                stream.Write(bytes);
                stream.Flush(flushToDisk: true);
            }

            System.IO.File.Move(temporary, file, overwrite: true);
        }
        catch
        {
            try
            {
                System.IO.File.Delete(temporary);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
            }

            throw;
        }
    }

    private string File(string name) => System.IO.Path.Combine(Path, name);
}
