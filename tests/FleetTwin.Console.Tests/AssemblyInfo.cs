// One demo silo and one browser at a time: the machine's cores are few, and the timings the tests report mean more
// when nothing else of this assembly runs beside them.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
