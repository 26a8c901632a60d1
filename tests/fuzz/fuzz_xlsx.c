/* libFuzzer: Excel workbooks (daemon/store/xlsx.c, sheet.c, archive.c,
 * through libzip and libxml2) read into rows. An input that begins "PK"
 * is the whole file; any other is the sheet's XML, then (after a line
 * "--") the shared strings', the styles' and the workbook's, packed with
 * the relationships that name them. */
#include "fuzz_sheet.h"
#include "store/xlsx.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size >= 2 && data[0] == 'P' && data[1] == 'K') {
        fuzz_read(tkl_xlsx_read, "fuzz.xlsx", (const char *)data, size);
        return 0;
    }
    struct fuzz_part parts[] = {
        {"xl/worksheets/sheet1.xml", ""},
        {"xl/sharedStrings.xml", "<sst/>"},
        {"xl/styles.xml", "<styleSheet/>"},
        {"xl/workbook.xml", "<workbook><workbookPr date1904=\"0\"/><sheets><sheet name=\"Plan\" "
                            "r:id=\"rId1\" xmlns:r=\"r\"/></sheets></workbook>"},
        {"xl/_rels/workbook.xml.rels",
         "<Relationships><Relationship Id=\"rId1\" Type=\"/worksheet\" "
         "Target=\"worksheets/sheet1.xml\"/><Relationship Id=\"rId2\" Type=\"/sharedStrings\" "
         "Target=\"sharedStrings.xml\"/><Relationship Id=\"rId3\" Type=\"/styles\" "
         "Target=\"/xl/styles.xml\"/></Relationships>"},
    };
    char *zip;
    size_t len;
    fuzz_zip(data, size, parts, 5, 4, &zip, &len);
    fuzz_read(tkl_xlsx_read, "fuzz.xlsx#plan", zip, len);
    free(zip);
    return 0;
}
