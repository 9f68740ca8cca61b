using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Http;
using VolunteerCloud.Api;

namespace VolunteerCloud.Host.Api;

/// <summary>What a request may do.</summary>
internal enum Access
{
    None,
    Read,
    Admin,
}

/// <summary>
/// Bearer tokens for the HTTP API (as Nomad's ACL tokens, reduced to two roles): an admin token may change the
/// cluster (deploy, scale, remove, keys, leave), a read token may only look. Tokens are compared in constant time (on
/// their SHA-256, so neither content nor length leaks). Writes are never anonymous; reads are, unless turned off.
/// </summary>
internal sealed class ApiTokens
{
    private readonly List<byte[]> _admin;
    private readonly List<byte[]> _read;

    public ApiTokens(IEnumerable<string> admin, IEnumerable<string> read, bool anonymousRead)
    {
        _admin = [.. admin.Select(Hash)];
        _read = [.. read.Select(Hash)];
        AnonymousRead = anonymousRead;
    }

    public bool AnonymousRead { get; }

    /// <summary>The access a request's <c>Authorization: Bearer …</c> header grants.</summary>
    public Access Grant(HttpRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        var header = request.Headers.Authorization.ToString();
        if (!header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
        {
            return AnonymousRead ? Access.Read : Access.None;
        }

        var presented = Hash(header["Bearer ".Length..].Trim());
        var admin = false;
        var read = false;
        foreach (var token in _admin)
        {
            admin |= CryptographicOperations.FixedTimeEquals(token, presented); // no early exit: the time does not depend on which matched
        }

        foreach (var token in _read)
        {
            read |= CryptographicOperations.FixedTimeEquals(token, presented);
        }

        return admin ? Access.Admin : read ? Access.Read : Access.None; // a token that matches nothing grants nothing
    }

    /// <summary>
    /// The endpoint filter: GET needs read access, every other method admin access; 401 without a usable token, 403 with
    /// a read token on a write.
    /// </summary>
    public static async ValueTask<object?> Check(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(next);
        var request = context.HttpContext.Request;
        var needed = HttpMethods.IsGet(request.Method) || HttpMethods.IsHead(request.Method) ? Access.Read : Access.Admin;
        var tokens = context.HttpContext.RequestServices.GetService(typeof(ApiTokens)) as ApiTokens
                     ?? throw new InvalidOperationException("ApiTokens is not registered.");
        var granted = tokens.Grant(request);
        if (granted >= needed)
        {
            return await next(context).ConfigureAwait(false);
        }

        var presented = request.Headers.Authorization.Count > 0;
        if (!presented)
        {
            return Results.Json(new ApiError(needed == Access.Admin ? "This changes the cluster: send an admin token (Authorization: Bearer …; vc --token or VC_TOKEN)." : "Send a token (Authorization: Bearer …; vc --token or VC_TOKEN)."), statusCode: StatusCodes.Status401Unauthorized);
        }

        return granted == Access.None
            ? Results.Json(new ApiError("The token is not valid here."), statusCode: StatusCodes.Status401Unauthorized)
            : Results.Json(new ApiError("This token may only read; changes need an admin token."), statusCode: StatusCodes.Status403Forbidden);
    }

    private static byte[] Hash(string token) => SHA256.HashData(Encoding.UTF8.GetBytes(token));
}
