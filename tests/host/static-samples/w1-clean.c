// SPDX-License-Identifier: GPL-2.0
/* A clean translation unit: no gcc -Wall -Wextra and no sparse warning. */
int sample_entry(int x);

static int sample_value(int x)
{
	return x + 1;
}

int sample_entry(int x)
{
	return sample_value(x);
}
