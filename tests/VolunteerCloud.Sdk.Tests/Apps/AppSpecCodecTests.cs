using VolunteerCloud.Apps;
using VolunteerCloud.Compose;
using VolunteerCloud.Containers;

namespace VolunteerCloud.Sdk.Tests.Apps;

public sealed class AppSpecCodecTests
{
    [Fact]
    public void Specs_and_reports_round_trip_through_their_encodings()
    {
        var spec = ComposeFile.Parse(new StringReader("""
            services:
              web:
                image: registry.local:5000/web:1.2
                command: ["httpd", "-f"]
                environment: { A: "1", B: "two words" }
                ports: ["8080:80", "53/udp"]
                healthcheck: { test: ["CMD", "true"], interval: 5s, retries: 2 }
                restart: unless-stopped
                read_only: true
                deploy: { replicas: 4, resources: { limits: { cpus: "1.5", memory: 1g } } }
                x-volunteercloud: { availability: 0.99 }
            """)).Single();
        Assert.True(spec.ReadOnlyRootFilesystem);
        Assert.True(spec.ToContainerSpec("web/0.1").ReadOnlyRootFilesystem);
        Assert.NotEqual(spec, spec with { ReadOnlyRootFilesystem = false });
        var decoded = VolunteerCloud.ControlPlane.AppSpecCodec.Decode(VolunteerCloud.ControlPlane.AppSpecCodec.Encode(spec));
        Assert.Equal(spec, decoded);
        Assert.Equal(spec.HealthCheck, decoded.HealthCheck);
        var plain = new AppSpec("x", "y");
        Assert.Equal(plain, VolunteerCloud.ControlPlane.AppSpecCodec.Decode(VolunteerCloud.ControlPlane.AppSpecCodec.Encode(plain)));
        Assert.Throws<VolunteerCloud.Wire.WireFormatException>(() => VolunteerCloud.ControlPlane.AppSpecCodec.Decode(new byte[] { 1, 65 }));

        var report = new VolunteerCloud.ControlPlane.NodeReport(true, [new(new("web", 1, 42), true), new(new("db", 0, -7), true)]);
        Assert.Equal(report, VolunteerCloud.ControlPlane.NodeReport.Decode(report.Encode()));
    }
}
