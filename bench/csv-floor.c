/*
 * The floor under loading a plan: libcsv alone parsing a file read whole
 * into memory (as the store reads it), with callbacks that only count.
 * Built and run by bench/store-load and bench/compare: csv-floor FILE prints
 * "records fields".
 */
#include <csv.h>
#include <stdio.h>
#include <stdlib.h>

struct counts {
    size_t records, fields;
};

static void on_field(void *data, size_t len, void *ctx)
{
    (void)data;
    (void)len;
    ((struct counts *)ctx)->fields++;
}

static void on_record(int term, void *ctx)
{
    (void)term;
    ((struct counts *)ctx)->records++;
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: csv-floor FILE\n");
        return 2;
    }
    FILE *f = fopen(argv[1], "rb");
    if (!f || fseek(f, 0, SEEK_END) != 0) {
        perror(argv[1]);
        return 1;
    }
    long size = ftell(f);
    char *data = size >= 0 ? malloc((size_t)size + 1) : NULL;
    rewind(f);
    if (!data || fread(data, 1, (size_t)size, f) != (size_t)size) {
        perror(argv[1]);
        return 1;
    }
    fclose(f);
    struct csv_parser p;
    struct counts c = {0};
    if (csv_init(&p, CSV_APPEND_NULL) != 0 ||
        csv_parse(&p, data, (size_t)size, on_field, on_record, &c) != (size_t)size ||
        csv_fini(&p, on_field, on_record, &c) != 0) {
        fprintf(stderr, "%s: not CSV\n", argv[1]);
        return 1;
    }
    csv_free(&p);
    free(data);
    printf("%zu %zu\n", c.records, c.fields);
    return 0;
}
