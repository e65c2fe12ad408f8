// SPDX-License-Identifier: GPL-2.0
/**
 * sample_scale() - Multiply a value by a factor.
 * @value: The value to scale.
 */
int sample_scale(int value, int factor)
{
	return value * factor;
}
