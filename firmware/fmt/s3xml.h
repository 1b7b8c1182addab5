/*
** s3xml.h: the XML documents the S3 client reads, parsed with bounds
** and nothing more: an error (<Error><Code>...), a ListObjectsV2 page
** (<ListBucketResult>), and multipart's InitiateMultipartUploadResult and
** ListPartsResult. Not a general XML parser: element names are matched
** exactly, attributes are skipped, the five predefined entities and numeric
** character references are decoded, anything else is HF_EPROTO. Pure (text
** in), so it is tested on hostile input.
*/
#ifndef HF_S3XML_H
#define HF_S3XML_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define S3XML_MAX_DOC (4u << 20) /* larger replies are refused unread */

struct s3_error {
	char code[64];
	char message[256];
	char request_id[128];
};

/* The Code, Message and RequestId of an S3 error document. */
int s3xml_error(const char *xml, size_t len, struct s3_error *e);

struct s3_object {
	char key[1024];
	uint64_t size;
	char etag[80];
};

/* One ListObjectsV2 page: FN for each object (non-zero stops), whether more
** pages follow, and the token for the next one. */
int s3xml_list(const char *xml, size_t len, int (*fn)(void *arg, const struct s3_object *o),
	       void *arg, bool *truncated, char *next_token, size_t token_len);

/* The UploadId of an InitiateMultipartUploadResult. */
int s3xml_upload_id(const char *xml, size_t len, char *id, size_t id_len);

struct s3_part {
	unsigned number;
	uint64_t size;
	char etag[80];
};

/* One ListParts page: FN for each part (non-zero stops), whether more
** pages follow, and the part-number marker for the next one. */
int s3xml_parts(const char *xml, size_t len, int (*fn)(void *arg, const struct s3_part *p),
		void *arg, bool *truncated, unsigned *next_marker);

/* A DeleteObjects reply (<DeleteResult>, quiet mode): how many keys failed,
** and the first one's key and code. */
int s3xml_delete_result(const char *xml, size_t len, unsigned *failed, char *key, size_t key_len,
			char *code, size_t code_len);

#endif /* HF_S3XML_H */
