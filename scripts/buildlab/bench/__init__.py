"""The benchmark (`buildlab measure`): subjects, the campaign, the results file, its tables,
targets and charts."""
