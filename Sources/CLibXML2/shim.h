#ifndef CTIBRIDGE_CLIBXML2_SHIM_H
#define CTIBRIDGE_CLIBXML2_SHIM_H
#include <libxml/xmlversion.h>
/* Debian's libxml2 is built with ICU; its headers would pull the system ICU headers, which clash with the
   toolchain's private ICU when a module also sees Foundation. No libxml2 API we call depends on it. */
#undef LIBXML_ICU_ENABLED
#include <libxml/parser.h>
#include <libxml/parserInternals.h>
#include <libxml/SAX2.h>
#endif
