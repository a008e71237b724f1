"""Response exports: the plan, the variables and their codebook, the weights, the file formats, web export jobs."""
