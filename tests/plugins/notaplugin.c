/* A shared object with no tickler entry point, for the loader test. */
int notaplugin_symbol(void);
int notaplugin_symbol(void)
{
    return 42;
}
