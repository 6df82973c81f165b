/* container_meta.h: container and pod names from the runtimes' metadata on the host. */
#ifndef WRITEAMP_CONTAINER_META_H
#define WRITEAMP_CONTAINER_META_H

#include <stdbool.h>

#include "container_id.h"

#define WA_META_NAME_LEN 256

struct wa_container_meta {
	char name[WA_META_NAME_LEN];	      /* container name; "" when no metadata was found */
	char image[WA_META_NAME_LEN];	      /* "" when unknown */
	char pod_name[WA_META_NAME_LEN];      /* "" outside pods or when unknown */
	char pod_namespace[WA_META_NAME_LEN]; /* "" outside pods or when unknown */
	enum wa_runtime runtime; /* as found in metadata: resolves WA_RUNTIME_CRI; else as given */
};

/*
 * container_meta_lookup() - find the names of the container @who, reading the runtimes'
 * files under @root ("" or "/" for the host; a fixture directory in tests). Reads only files;
 * runs no runtime CLI. Returns true when any name was found.
 */
bool container_meta_lookup(const char *root, const struct wa_cgroup_identity *who,
			   struct wa_container_meta *out);

#endif /* WRITEAMP_CONTAINER_META_H */
