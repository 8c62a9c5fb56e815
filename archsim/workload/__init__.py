"""Workloads: p-DNN (this package's schema and loader) and the packaged default workload."""
