/* libFuzzer: OpenDocument spreadsheets (daemon/store/ods.c, sheet.c,
 * archive.c, through libzip and libxml2) read into rows. An input that
 * begins "PK" is the whole file; any other is its content.xml. */
#include "fuzz_sheet.h"
#include "store/ods.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size >= 2 && data[0] == 'P' && data[1] == 'K') {
        fuzz_read(tkl_ods_read, "fuzz.ods", (const char *)data, size);
        return 0;
    }
    struct fuzz_part parts[] = {
        {"content.xml", ""},
        {"mimetype", "application/vnd.oasis.opendocument.spreadsheet"},
    };
    char *zip;
    size_t len;
    fuzz_zip(data, size, parts, 2, 1, &zip, &len);
    fuzz_read(tkl_ods_read, "fuzz.ods", zip, len);
    free(zip);
    return 0;
}
