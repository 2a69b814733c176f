"""Jobs: argv commands run detached under a shim, tracked in the workspace database."""
