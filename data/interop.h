/* interop.h - what import.c, export.c and cot.c share; not for other modules. */
#ifndef DATA_INTEROP_H
#define DATA_INTEROP_H

/* GDALAllRegister, once per process. */
void data_gdal_init(void);

#endif
