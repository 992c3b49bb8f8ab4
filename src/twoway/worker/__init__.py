"""The `twoway worker` process: one loop that sends, processes carrier events and gives carriers
their turns (loop.py), and the supervisor that runs several of them and the job runners."""
