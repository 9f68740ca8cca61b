using Microsoft.Extensions.Hosting;
using VolunteerCloud.Host;

await VolunteerHost.CreateBuilder(args).Build().RunAsync().ConfigureAwait(false);
