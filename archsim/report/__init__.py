"""Result files from a RunResult: summary.json, tidy CSV tables, resolved config, manifest. Never imports
the engine or the hardware model."""
