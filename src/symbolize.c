// SPDX-License-Identifier: GPL-2.0
/* symbolize.c: user symbols from libdwfl, kernel symbols from /proc/kallsyms, names interned. */
#include <inttypes.h>
#include <search.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "symbolize.h"

struct ksym {
	__u64 addr;
	const char *name; /* interned */
};

struct wa_symbols {
	void *names; /* tsearch tree of interned strings */
	struct ksym *ksyms;
	size_t nksyms;
	bool ksyms_loaded;
};

struct wa_symbols *symbols_new(void)
{
	return calloc(1, sizeof(struct wa_symbols));
}

void symbols_free(struct wa_symbols *sy)
{
	if (!sy)
		return;
	tdestroy(sy->names, free);
	free(sy->ksyms);
	free(sy);
}

const char *symbols_intern(struct wa_symbols *sy, const char *name)
{
	char *copy;
	void *found = tfind(name, &sy->names, (int (*)(const void *, const void *))strcmp);

	if (found)
		return *(const char **)found;
	copy = strdup(name);
	if (!copy)
		return "[out of memory]";
	found = tsearch(copy, &sy->names, (int (*)(const void *, const void *))strcmp);
	if (!found) {
		free(copy);
		return "[out of memory]";
	}
	return copy;
}

static int compare_ksym(const void *a, const void *b)
{
	const struct ksym *x = a, *y = b;

	return x->addr < y->addr ? -1 : x->addr > y->addr;
}

/* Text symbols only: a code address never belongs to a data symbol. */
static bool is_text_type(char type)
{
	return type == 't' || type == 'T' || type == 'w' || type == 'W';
}

static int add_ksym(struct wa_symbols *sy, size_t *cap, __u64 addr, const char *name)
{
	if (sy->nksyms == *cap) {
		size_t ncap = *cap ? *cap * 2 : 65536;
		struct ksym *n = realloc(sy->ksyms, ncap * sizeof(*n));

		if (!n)
			return -1;
		sy->ksyms = n;
		*cap = ncap;
	}
	sy->ksyms[sy->nksyms].addr = addr;
	sy->ksyms[sy->nksyms].name = symbols_intern(sy, name);
	sy->nksyms++;
	return 0;
}

/* Reads /proc/kallsyms once; without CAP_SYSLOG every address reads 0 and none is kept. */
static void load_kallsyms(struct wa_symbols *sy)
{
	char line[512], name[256], type;
	size_t cap = 0;
	__u64 addr;
	FILE *f;

	sy->ksyms_loaded = true;
	f = fopen("/proc/kallsyms", "re");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%llx %c %255s", &addr, &type, name) != 3)
			continue;
		if (addr && is_text_type(type) && add_ksym(sy, &cap, addr, name))
			break;
	}
	fclose(f);
	qsort(sy->ksyms, sy->nksyms, sizeof(*sy->ksyms), compare_ksym);
}

const char *symbols_kernel(struct wa_symbols *sy, __u64 pc, bool *known)
{
	size_t lo = 0, hi;

	if (!sy->ksyms_loaded)
		load_kallsyms(sy);
	hi = sy->nksyms;
	/* The last symbol at or below pc. */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (sy->ksyms[mid].addr <= pc)
			lo = mid + 1;
		else
			hi = mid;
	}
	*known = lo > 0;
	return lo ? sy->ksyms[lo - 1].name : symbols_intern(sy, "[unknown] ([kernel])");
}

/* ".symtab" names carry their symbol version ("__libc_start_main@@GLIBC_2.34"); drop it. */
static const char *intern_unversioned(struct wa_symbols *sy, const char *name)
{
	const char *at = strchr(name, '@');
	char plain[512];

	if (!at || at == name || (size_t)(at - name) >= sizeof(plain))
		return symbols_intern(sy, name);
	memcpy(plain, name, at - name);
	plain[at - name] = '\0';
	return symbols_intern(sy, plain);
}

static const char *module_basename(Dwfl_Module *mod)
{
	const char *name = dwfl_module_info(mod, NULL, NULL, NULL, NULL, NULL, NULL, NULL);
	const char *slash = name ? strrchr(name, '/') : NULL;

	return slash ? slash + 1 : name;
}

const char *symbols_user(struct wa_symbols *sy, struct wa_addrspace *as, __u64 pc,
			 bool return_address, bool *known)
{
	__u64 at = return_address && pc ? pc - 1 : pc;
	Dwfl_Module *mod = as && as->dwfl ? dwfl_addrmodule(as->dwfl, at) : NULL;
	const char *name = NULL, *module;
	char unknown[320];
	GElf_Off offset;
	GElf_Sym sym;

	if (mod)
		name = dwfl_module_addrinfo(mod, at, &offset, &sym, NULL, NULL, NULL);
	*known = name != NULL;
	if (name)
		return intern_unversioned(sy, name);
	module = mod ? module_basename(mod) : NULL;
	if (!module)
		return symbols_intern(sy, "[unknown]");
	snprintf(unknown, sizeof(unknown), "[unknown] (%s)", module);
	return symbols_intern(sy, unknown);
}
