using SharpCtdb.Daemon;

return await DaemonMain.RunAsync(args);
