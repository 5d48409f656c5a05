"""Settlement's long work, outside consumer callbacks: the run worker, the correction worker,
the run schedule and the spot price import."""
