"""Parameter studies: TOML study files, sweeps on dask, figures and the command line."""
