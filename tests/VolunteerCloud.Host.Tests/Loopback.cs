using System.Net;
using System.Net.Sockets;

namespace VolunteerCloud.Host.Tests;

/// <summary>Loopback helpers for transport tests.</summary>
internal static class Loopback
{
    /// <summary>A UDP port on 127.0.0.1 that was free a moment ago.</summary>
    public static int FreePort()
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return ((IPEndPoint)socket.LocalEndPoint!).Port;
    }
}
