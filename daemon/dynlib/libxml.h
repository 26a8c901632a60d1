#ifndef TICKLER_DYNLIB_LIBXML_H
#define TICKLER_DYNLIB_LIBXML_H

#include <libxml/xmlreader.h>
#include <libxml/xmlwriter.h>

#include "dynlib/dynlib.h"

/* The functions of libxml2 the spreadsheet and Word readers call (store/),
 * and the progress report's Word writer (report/word.c). xmlFree is a
 * variable, the allocator's free: call (*sym_xmlFree)(p). */
#define TKL_LIBXML_SYMBOLS(X)                                                                      \
    X(xmlBufferContent)                                                                            \
    X(xmlBufferCreate)                                                                             \
    X(xmlBufferFree)                                                                               \
    X(xmlBufferLength)                                                                             \
    X(xmlBufferSetAllocationScheme)                                                                \
    X(xmlFree)                                                                                     \
    X(xmlFreeTextReader)                                                                           \
    X(xmlFreeTextWriter)                                                                           \
    X(xmlNewTextWriterMemory)                                                                      \
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
    X(xmlTextReaderSetErrorHandler)                                                                \
    X(xmlTextWriterEndDocument)                                                                    \
    X(xmlTextWriterEndElement)                                                                     \
    X(xmlTextWriterStartDocument)                                                                  \
    X(xmlTextWriterStartElement)                                                                   \
    X(xmlTextWriterWriteAttribute)                                                                 \
    X(xmlTextWriterWriteString)

TKL_LIBXML_SYMBOLS(TKL_DYNSYM_DECLARE)

/* Loads libxml2 (tkl_dynlib_load): 0, or a negative errno
 * with a message in err. */
int tkl_libxml_load(char *err, size_t size);

#endif
