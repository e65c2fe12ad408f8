// SPDX-License-Identifier: GPL-2.0
/* w1-clean.c with two planted warnings: one of gcc -Wall, one of sparse. */
int sample_entry(int x);
int planted_global;

static int sample_value(int x)
{
	int planted_unused;

	return x + 1;
}

int sample_entry(int x)
{
	return sample_value(x);
}
