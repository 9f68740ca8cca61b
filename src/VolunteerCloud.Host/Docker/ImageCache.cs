using System.Text;
using Docker.DotNet;
using Docker.DotNet.Models;
using Microsoft.Extensions.Logging;
using VolunteerCloud.Host.Runtime;

namespace VolunteerCloud.Host.Docker;

/// <summary>
/// The images the daemon runs: pulled one at a time when the engine lacks them, and the ones this daemon pulled kept
/// within the volunteer's disk share, least recently used removed first (never the volunteer's own images, never one
/// a container of ours runs). Which images it pulled is kept in <see cref="DataDirectory.PulledImagesFile"/>, so a
/// restart still knows which it may remove. Its own lock, apart from the containers'; the file is written outside it.
/// </summary>
internal sealed partial class ImageCache(DockerClient client, long diskBytes, string? stateFile, ILogger logger) : IDisposable
{
    private readonly Lock _lock = new();
    private readonly Lock _saving = new();
    private readonly SemaphoreSlim _pulls = new(1, 1);
    private readonly Dictionary<string, long> _pulled = new(StringComparer.Ordinal); // images this daemon pulled → last use
    private readonly HashSet<string> _present = new(StringComparer.Ordinal); // images seen on the engine
    private long _useClock;
    private long _changes; // versions of _pulled, so an older list is never written over a newer one
    private long _saved;

    /// <summary>Reads which images an earlier life pulled.</summary>
    public void Load()
    {
        if (stateFile is { } file && File.Exists(file))
        {
            lock (_lock)
            {
                foreach (var image in File.ReadAllLines(file).Where(l => l.Length > 0))
                {
                    _pulled[image] = ++_useClock;
                }
            }
        }
    }

    /// <summary>The image went away since it was last seen (a create found it missing): the next use looks again.</summary>
    public void Forget(string image)
    {
        lock (_lock)
        {
            _present.Remove(image);
        }
    }

    /// <summary>
    /// Makes sure the engine has <paramref name="image"/>: known present, found by inspection, or pulled (and then
    /// the disk share enforced, with <paramref name="inUse"/> telling which images our containers run).
    /// </summary>
    /// <exception cref="IOException">The pulled image alone does not fit the volunteer's disk share.</exception>
    public async Task EnsureAsync(string image, Func<IReadOnlySet<string>> inUse, CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            if (_present.Contains(image))
            {
                TouchLocked(image); // seen on this engine already: no round trip (a create that finds it gone pulls again)
                return;
            }
        }

        await _pulls.WaitAsync(cancellationToken).ConfigureAwait(false); // pulls one at a time, as the simulated engine
        try
        {
            try
            {
                await client.Images.InspectImageAsync(image, cancellationToken).ConfigureAwait(false);
                lock (_lock)
                {
                    TouchLocked(image);
                    _present.Add(image);
                }

                return;
            }
            catch (DockerImageNotFoundException)
            {
            }

            var (name, tag) = SplitImage(image);
            await client.Images.CreateImageAsync(new ImagesCreateParameters { FromImage = name, Tag = tag }, null, new Progress<JSONMessage>(), cancellationToken).ConfigureAwait(false);
            await client.Images.InspectImageAsync(image, cancellationToken).ConfigureAwait(false); // a failed pull reports itself only in the progress stream
            lock (_lock)
            {
                TouchLocked(image, pulled: true);
            }

            Save();
            await KeepWithinDiskShareAsync(image, inUse, cancellationToken).ConfigureAwait(false);
            lock (_lock)
            {
                _present.Add(image);
            }
        }
        finally
        {
            _pulls.Release();
        }
    }

    public void Dispose() => _pulls.Dispose();

    /// <summary>Splits an image reference into repository and tag (a port in the registry's host is not a tag).</summary>
    internal static (string Name, string Tag) SplitImage(string image)
    {
        var at = image.IndexOf('@', StringComparison.Ordinal);
        if (at >= 0)
        {
            return (image[..at], image[(at + 1)..]);
        }

        var colon = image.LastIndexOf(':');
        return colon > image.LastIndexOf('/') ? (image[..colon], image[(colon + 1)..]) : (image, "latest");
    }

    /// <summary>Records a use of an image: one this daemon pulled is tracked from then on; others are not ours.</summary>
    private void TouchLocked(string image, bool pulled = false)
    {
        if (pulled || _pulled.ContainsKey(image))
        {
            _pulled[image] = ++_useClock;
            if (pulled)
            {
                _changes++;
            }
        }
    }

    /// <summary>
    /// Writes which images this daemon pulled, whole or not at all, outside the cache's lock; a list older than the one
    /// written already is not written. A write that fails is logged and the start goes on (a restart then forgets an
    /// image it pulled, and leaves it on disk rather than remove one it may not own).
    /// </summary>
    private void Save()
    {
        if (stateFile is not { } file)
        {
            return;
        }

        string content;
        long version;
        lock (_lock)
        {
            content = string.Concat(_pulled.OrderBy(p => p.Value).Select(p => p.Key + "\n"));
            version = _changes;
        }

        lock (_saving)
        {
            if (version < _saved)
            {
                return;
            }

            try
            {
                DataDirectory.WriteAtomically(file, Encoding.UTF8.GetBytes(content));
                _saved = version;
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                LogPulledNotSaved(logger, file, e);
            }
        }
    }

    /// <summary>
    /// Keeps the images this daemon pulled within the volunteer's disk share: removes the least recently used ones
    /// no container of ours runs, oldest first; if the new image alone does not fit, it is removed and the start fails.
    /// Images the daemon did not pull (the volunteer's own) are never touched.
    /// </summary>
    private async Task KeepWithinDiskShareAsync(string pulledNow, Func<IReadOnlySet<string>> inUse, CancellationToken cancellationToken)
    {
        var sizes = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (var listed in await client.Images.ListImagesAsync(new ImagesListParameters(), cancellationToken).ConfigureAwait(false))
        {
            foreach (var repoTag in listed.RepoTags ?? [])
            {
                sizes[repoTag] = listed.Size;
            }
        }

        var running = inUse();
        List<(string Image, long Used)> candidates;
        long total;
        lock (_lock)
        {
            foreach (var gone in _pulled.Keys.Where(i => !sizes.ContainsKey(Canonical(i))).ToList())
            {
                _pulled.Remove(gone); // removed by someone else
                _changes++;
            }

            total = _pulled.Keys.Sum(i => sizes.GetValueOrDefault(Canonical(i)));
            candidates = [.. _pulled.Where(p => p.Key != pulledNow && !running.Contains(p.Key)).OrderBy(p => p.Value).Select(p => (p.Key, p.Value))];
        }

        Save();
        foreach (var (image, _) in candidates)
        {
            if (total <= diskBytes)
            {
                break;
            }

            try
            {
                await client.Images.DeleteImageAsync(image, new ImageDeleteParameters(), cancellationToken).ConfigureAwait(false);
                total -= sizes.GetValueOrDefault(Canonical(image));
                lock (_lock)
                {
                    _pulled.Remove(image);
                    _present.Remove(image);
                    _changes++;
                }

                Save();
                LogEvicted(logger, image);
            }
            catch (DockerApiException e)
            {
                LogKept(logger, image, e.Message); // in use by a container that is not ours: keep it
            }
        }

        if (total > diskBytes)
        {
            await client.Images.DeleteImageAsync(pulledNow, new ImageDeleteParameters(), cancellationToken).ConfigureAwait(false);
            lock (_lock)
            {
                _pulled.Remove(pulledNow);
                _changes++;
            }

            Save();
            throw new IOException($"the images would take {total >> 20} MiB, more than the volunteer's disk share of {diskBytes >> 20} MiB");
        }
    }

    /// <summary>How the engine lists an image: with a tag (":latest" when none is given).</summary>
    private static string Canonical(string image)
    {
        var (name, tag) = SplitImage(image);
        return image.Contains('@', StringComparison.Ordinal) ? image : $"{name}:{tag}";
    }

    [LoggerMessage(20, LogLevel.Warning, "Could not write {File}, the images this daemon pulled; after a restart it leaves the newest on disk")]
    private static partial void LogPulledNotSaved(ILogger logger, string file, Exception exception);

    [LoggerMessage(7, LogLevel.Information, "Removed image {Image}, unused, to stay within the volunteer's disk share")]
    private static partial void LogEvicted(ILogger logger, string image);

    [LoggerMessage(3, LogLevel.Warning, "Could not remove image {Image}, so it stays: {Reason}")]
    private static partial void LogKept(ILogger logger, string image, string reason);
}
