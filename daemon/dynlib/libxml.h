#ifndef TICKLER_DYNLIB_LIBXML_H
#define TICKLER_DYNLIB_LIBXML_H

#include <libxml/xmlreader.h>

#include "dynlib/dynlib.h"

/* The functions of libxml2 the spreadsheet and Word readers call (store/).
 * xmlFree is a variable, the allocator's free: call (*sym_xmlFree)(p). */
#define TKL_LIBXML_SYMBOLS(X)                                                                      \
    X(xmlFree)                                                                                     \
    X(xmlFreeTextReader)                                                                           \
    X(xmlReaderForIO)                                                                              \
    X(xmlTextReaderConstLocalName)                                                                 \
    X(xmlTextReaderConstNamespaceUri)                                                              \
    X(xmlTextReaderConstValue)                                                                     \
    X(xmlTextReaderGetAttributeNs)                                                                 \
    X(xmlTextReaderIsEmptyElement)                                                                 \
    X(xmlTextReaderIsNamespaceDecl)                                                                \
    X(xmlTextReaderLocatorLineNumber)                                                              \
    X(xmlTextReaderMoveToElement)                                                                  \
    X(xmlTextReaderMoveToFirstAttribute)                                                           \
    X(xmlTextReaderMoveToNextAttribute)                                                            \
    X(xmlTextReaderNext)                                                                           \
    X(xmlTextReaderNodeType)                                                                       \
    X(xmlTextReaderRead)                                                                           \
    X(xmlTextReaderSetErrorHandler)

TKL_LIBXML_SYMBOLS(TKL_DYNSYM_DECLARE)

/* Loads libxml2 (tkl_dynlib_load): 0, or a negative errno
 * with a message in err. */
int tkl_libxml_load(char *err, size_t size);

#endif
