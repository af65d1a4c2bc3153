// One lab at a time: the scenarios share the namespaces and take a few seconds each.
[assembly: CollectionBehavior(CollectionBehavior.CollectionPerAssembly)]
