// Simulator: a CSTA switch for the demo, tests and load (see README.md in this folder once written).
