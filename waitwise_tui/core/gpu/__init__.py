"""GPU and host sampling: NVML sampler, host (psutil), the fake NVML for tests."""
