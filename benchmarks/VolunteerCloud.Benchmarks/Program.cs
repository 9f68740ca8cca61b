using BenchmarkDotNet.Running;

BenchmarkSwitcher.FromAssembly(typeof(VolunteerCloud.Benchmarks.EventQueueBenchmarks).Assembly).Run(args);
