module gosidecar

go 1.19
