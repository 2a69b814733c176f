"""The monitor pane: GPU + host panel and the training runs panel."""
