using VolunteerCloud.Apps;
using VolunteerCloud.Compose;
using VolunteerCloud.Containers;

namespace VolunteerCloud.Compose.Tests;

public sealed class ComposeFileTests
{
    private static IReadOnlyList<AppSpec> Parse(string yaml) => ComposeFile.Parse(new StringReader(yaml), "compose.yaml");

    [Fact]
    public void The_supported_subset_is_read_into_app_specs()
    {
        var apps = Parse("""
            name: shop
            version: "3.9"
            x-shared: &defaults
              anything: goes
            services:
              web:
                image: registry.local:5000/web:1.2
                command: ["httpd", "-f", "-p", "8080"]
                environment:
                  MODE: production
                  WORKERS: 4
                ports:
                  - "8080:80"
                  - "9000"
                  - "5353:53/udp"
                  - target: 443
                    published: 8443
                healthcheck:
                  test: ["CMD", "wget", "-q", "-O-", "http://localhost:8080/"]
                  interval: 1m30s
                  timeout: 500ms
                  retries: 5
                  start_period: 10s
                restart: on-failure
                deploy:
                  replicas: 3
                  resources:
                    limits:
                      cpus: "0.5"
                      memory: 256m
                x-volunteercloud:
                  availability: 0.999
              worker:
                image: busybox:1.36
                command: sh -c 'echo "hello world" && sleep 3600'
                environment:
                  - QUEUE=jobs
                  - EMPTY=
            """);

        Assert.Equal(["web", "worker"], apps.Select(a => a.Name));
        var web = apps[0];
        Assert.Equal("registry.local:5000/web:1.2", web.Image);
        Assert.Equal(["httpd", "-f", "-p", "8080"], web.Command.ToArray());
        Assert.Equal(["MODE", "WORKERS"], web.Environment.Keys);
        Assert.Equal("4", web.Environment["WORKERS"]);
        Assert.Equal([new PortBinding(80, 8080), new PortBinding(9000), new PortBinding(53, 5353, "udp"), new PortBinding(443, 8443)], web.Ports.ToArray());
        Assert.Equal(TimeSpan.FromSeconds(90), web.HealthCheck!.Interval);
        Assert.Equal(TimeSpan.FromMilliseconds(500), web.HealthCheck.Timeout);
        Assert.Equal(5, web.HealthCheck.Retries);
        Assert.Equal(TimeSpan.FromSeconds(10), web.HealthCheck.StartPeriod);
        Assert.Equal(RestartPolicy.OnFailure, web.Restart);
        Assert.Equal(3, web.Replicas);
        Assert.Equal(new ResourceAmount(0.5, 256L << 20), web.Limits);
        Assert.Equal(0.999, web.AvailabilityTarget);

        var worker = apps[1];
        Assert.Equal(["sh", "-c", "echo \"hello world\" && sleep 3600"], worker.Command.ToArray());
        Assert.Equal("", worker.Environment["EMPTY"]);
        Assert.Equal(1, worker.Replicas);
        Assert.Equal(AppSpec.DefaultLimits, worker.Limits);
        Assert.Equal(RestartPolicy.Always, worker.Restart);
        Assert.Null(worker.HealthCheck);

        var container = web.ToContainerSpec("web-0");
        Assert.Equal("web", container.App);
        Assert.Equal("web-0", container.Replica);
        Assert.Equal(web.Limits, container.Limits);
    }

    public static TheoryData<string, int, string> Bad() => new()
    {
        // yaml, line, what the message must say
        { "services:\n  web:\n    image: a\n    volumes:\n      - /:/host\n", 4, "services.web.volumes: not supported: volunteers' machines are never mounted" },
        { "services:\n  web:\n    build: .\n", 3, "services.web.build: not supported: VolunteerCloud runs images only" },
        { "services:\n  web:\n    image: a\n    privileged: true\n", 4, "services.web.privileged: not supported" },
        { "services:\n  web:\n    image: a\n    read_only: maybe\n", 4, "services.web.read_only: 'maybe' is not true or false" },
        { "services:\n  web:\n    image: a\n    stdin_open: true\n", 4, "services.web.stdin_open: not supported by VolunteerCloud" },
        { "services:\n  web:\n    image: a\n    deploy:\n      placement: {}\n", 5, "services.web.deploy.placement: not supported" },
        { "services:\n  web:\n    image: a\n    deploy:\n      resources:\n        reservations: {}\n", 6, "services.web.deploy.resources.reservations: not supported" },
        { "services:\n  web:\n    image: a\n    deploy:\n      resources:\n        limits:\n          pids: 10\n", 7, "services.web.deploy.resources.limits.pids: not supported" },
        { "networks: {}\nservices:\n  web:\n    image: a\n", 1, "networks: not supported" },
        { "services:\n  web:\n    command: x\n", 3, "services.web: no 'image'" },
        { "version: '3'\n", 1, "no 'services'" },
        { "services:\n  web:\n    image: a\n    deploy:\n      replicas: -1\n", 5, "replicas must be a whole number" },
        { "services:\n  web:\n    image: a\n    deploy:\n      replicas: two\n", 5, "'two' is not a number" },
        { "services:\n  web:\n    image: a\n    deploy:\n      resources:\n        limits:\n          memory: 12 parsecs\n", 7, "is not a size of at least 4m" },
        { "services:\n  web:\n    image: a\n    deploy:\n      resources:\n        limits:\n          cpus: 0\n", 7, "cpus must be a positive number" },
        { "services:\n  web:\n    image: a\n    ports:\n      - 127.0.0.1:80:80\n", 5, "binding to a host IP" },
        { "services:\n  web:\n    image: a\n    ports:\n      - 99999\n", 5, "not a port number" },
        { "services:\n  web:\n    image: a\n    ports:\n      - 80/sctp\n", 5, "not a protocol" },
        { "services:\n  web:\n    image: a\n    environment:\n      - TOKEN\n", 5, "'TOKEN' has no value" },
        { "services:\n  web:\n    image: a\n    environment:\n      TOKEN:\n", 5, "has no value" },
        { "services:\n  web:\n    image: a\n    healthcheck:\n      interval: 10s\n", 5, "a health check needs 'test'" },
        { "services:\n  web:\n    image: a\n    healthcheck:\n      test: [PING]\n      interval: soon\n", 5, "test is a string, or a list starting with CMD" },
        { "services:\n  web:\n    image: a\n    healthcheck:\n      test: curl x\n      interval: soon\n", 6, "'soon' is not a duration" },
        { "services:\n  web:\n    image: a\n    restart: sometimes\n", 4, "'sometimes' is not a restart policy" },
        { "services:\n  web:\n    image: a\n    command: echo 'oops\n", 4, "unclosed quote" },
        { "services:\n  Web App:\n    image: a\n", 2, "App name 'Web App' is not valid" },
        { "services:\n  web:\n    image: a\n    x-volunteercloud:\n      availability: 1.5\n", 5, "strictly between 0 and 1" },
        { "services:\n  web:\n    image: [a, b]\n", 3, "expected a single value, found a list" },
        { "services:\n  web:\n    image: a\n  web2: [\n", 5, "not valid YAML" },
        { "services: []\n", 1, "expected a mapping" },
    };

    [Theory]
    [MemberData(nameof(Bad))]
    public void Unsupported_keys_and_bad_values_are_errors_naming_the_key_and_line(string yaml, int line, string expected)
    {
        var error = Assert.Throws<ComposeException>(() => Parse(yaml));
        Assert.Equal(line, error.Line);
        Assert.StartsWith($"compose.yaml:{line}:", error.Message, StringComparison.Ordinal);
        Assert.True(error.Message.Contains(expected, StringComparison.Ordinal), $"'{error.Message}' lacks '{expected}'");
    }

    [Fact]
    public void Health_checks_can_be_disabled_and_extension_fields_are_ignored()
    {
        var app = Parse("services:\n  web:\n    image: a\n    x-note: hi\n    healthcheck:\n      disable: true\n").Single();
        Assert.Null(app.HealthCheck);
        var shell = Parse("services:\n  web:\n    image: a\n    healthcheck:\n      test: curl -f http://localhost\n").Single();
        Assert.Equal(["CMD-SHELL", "curl -f http://localhost"], shell.HealthCheck!.Test.ToArray());
        Assert.Equal(TimeSpan.FromSeconds(30), shell.HealthCheck.Interval); // Compose's default
    }

    [Fact]
    public void App_specs_validate_and_compare_by_value()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new AppSpec("a", "b") { Replicas = -1 });
        Assert.Throws<ArgumentOutOfRangeException>(() => new AppSpec("a", "b") { AvailabilityTarget = 1 });
        Assert.Throws<ArgumentOutOfRangeException>(() => new AppSpec("a", "b") { Limits = new ResourceAmount(0, 1) });
        Assert.Throws<ArgumentException>(() => new AppSpec("a", "has space"));
        var one = new AppSpec("web", "img") { Command = ["a", "b"], Replicas = 2 };
        var two = new AppSpec("web", "img") { Command = ["a", "b"], Replicas = 2 };
        Assert.Equal(one, two);
        Assert.NotEqual(one, two with { Replicas = 3 });
    }
}
