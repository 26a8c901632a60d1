/*
 * Where plugins are loaded from when neither --plugin-dir nor
 * daemon.plugin_directory names a directory: the installed one, chosen at
 * build time, or, for a program run from its build tree, the plugins built
 * beside it. CMake marks the build tree with a file named
 * TKL_PLUGIN_DIR_MARKER beside the programs it builds (never installed),
 * holding the build's plugin directory, absolute or relative to the
 * marker's directory, on one line. A marker is taken only when it is a
 * regular file, not a symbolic link, writable by its owner alone, and
 * owned by the user running the program, root or the program's owner.
 */
#ifndef TKL_PLUGIN_DIR_H
#define TKL_PLUGIN_DIR_H

#define TKL_PLUGIN_DIR_MARKER "tickler-plugin-dir"

/* The compiled-in plugin directory of an installed program. */
extern const char tkl_installed_plugin_dir[];

/*
 * The default plugin directory of the program whose executable is the file
 * exe: the directory named by the marker beside exe when there is one and
 * it can be read, else tkl_installed_plugin_dir. Returns a new string, or
 * NULL when out of memory.
 */
char *tkl_plugin_dir_for(const char *exe);

/* tkl_plugin_dir_for() of the running executable (/proc/self/exe; the
 * installed directory when it cannot be read). */
char *tkl_plugin_dir_default(void);

#endif
