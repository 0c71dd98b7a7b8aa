// CSTALink: one CTI link to one switch (see README.md in this folder once written).
