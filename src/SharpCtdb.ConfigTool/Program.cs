// ctdb-config: validate / get / dump ctdb.conf, with the 4.17 tool's outputs and exit codes
// (0 ok, 1 usage, 2 unknown option or missing file on validate, 22 = EINVAL for an invalid file or bad arguments).
return SharpCtdb.ConfigTool.ConfigTool.Run(args, Console.Out, Console.Error);
