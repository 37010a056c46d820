/* Placeholder: the integration suite replaces this with the real probe. */
int main(void)
{
	return 0;
}
