/* SPDX-License-Identifier: MIT
 * bypass status: devices grouped by who holds them, as text or JSON. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <limits.h>
#include "devbind.h"

static void json_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			fprintf(f, "\\%c", *s);
		else if ((unsigned char)*s < 0x20)
			fprintf(f, "\\u%04x", *s);
		else
			fputc(*s, f);
	}
	fputc('"', f);
}

static void usable(const struct db_opts *o, const struct db_dev *d, char *out, size_t len)
{
	char def[64], rem[64];
	const char *c[5];
	int n = 0;
	db_default_driver(o, d, def, sizeof(def));
	db_state_load(o, d->addr, rem, sizeof(rem));
	if (rem[0])
		c[n++] = rem;
	if (def[0] && strcmp(def, rem))
		c[n++] = def;
	c[n++] = "vfio-pci";
	c[n++] = "uio_pci_generic";
	char p[PATH_MAX], builds[1][4096];
	if (db_exists(db_path(p, sizeof(p), o->sysfs, "/bus/pci/drivers/bypass_uio")) ||
	    db_bypass_uio_builds(o, builds, 1))
		c[n++] = "bypass_uio";
	out[0] = '\0';
	for (int i = 0; i < n; i++) {
		if (!strcmp(c[i], d->driver))
			continue;
		size_t l = strlen(out);
		snprintf(out + l, len - l, "%s%s", l ? "," : "", c[i]);
	}
}

static const char *kind(const struct db_dev *d)
{
	return !d->driver[0] ? "none" : db_is_user_driver(d->driver) ? "user" : "kernel";
}

/* A PF's VF: its driver, and whether it is free: on no driver or a
 * user-space one that no process holds. `use` says what holds it. */
static bool vf_free(const struct db_opts *o, const char *addr, struct db_dev *vf, char *use, size_t len)
{
	struct db_reasons r = { 0 };
	use[0] = '\0';
	if (db_dev_read(o, addr, vf) < 0) {
		snprintf(use, len, "gone");
		return false;
	}
	if (vf->driver[0] && !db_is_user_driver(vf->driver)) {
		snprintf(use, len, "the kernel's%s%s", vf->nb_ifaces ? ", interface " : "",
			 vf->nb_ifaces ? vf->ifaces[0] : "");
		return false;
	}
	db_holders(o, vf, &r);
	for (int j = 0; j < r.n; j++)
		if (r.kind[j] == DB_HELD) {
			snprintf(use, len, "%s", r.text[j]);
			return false;
		}
	return true;
}

static void status_json(const struct db_opts *o, struct db_dev *devs, int n)
{
	FILE *f = o->out;
	bool first = true;
	fputs("[", f);
	for (int i = 0; i < n; i++) {
		struct db_dev *d = &devs[i];
		if (!o->all && !db_is_network(d))
			continue;
		struct db_reasons r;
		char use[256], buf[32];
		db_safety(o, d, &r);
		db_holders(o, d, &r);
		usable(o, d, use, sizeof(use));
		fprintf(f, "%s\n  {\"address\": ", first ? "" : ",");
		first = false;
		json_str(f, d->addr);
		fprintf(f, ", \"vendor\": \"%04x\", \"device\": \"%04x\", \"class\": \"%06x\", \"name\": ",
			d->vendor, d->device, d->class_code);
		json_str(f, d->name);
		fputs(", \"driver\": ", f);
		if (d->driver[0])
			json_str(f, d->driver);
		else
			fputs("null", f);
		fprintf(f, ", \"driver_kind\": \"%s\", \"usable_drivers\": [", kind(d));
		char *save = NULL;
		int k = 0;
		for (char *t = strtok_r(use, ",", &save); t; t = strtok_r(NULL, ",", &save), k++) {
			fputs(k ? ", " : "", f);
			json_str(f, t);
		}
		fputs("], \"interfaces\": [", f);
		for (int j = 0; j < d->nb_ifaces; j++) {
			char sum[160];
			db_iface_summary(o, d->ifaces[j], sum, sizeof(sum));
			fprintf(f, "%s{\"name\": ", j ? ", " : "");
			json_str(f, d->ifaces[j]);
			fputs(", \"state\": ", f);
			json_str(f, sum);
			fputs("}", f);
		}
		fprintf(f, "], \"active\": %s", db_reasons_count(&r, DB_ACTIVE) ? "true" : "false");
		static const struct { enum db_kind k; const char *key; } lists[] = {
			{ DB_ACTIVE, "active_reasons" }, { DB_NEVER, "never_reasons" },
			{ DB_WARN, "warnings" }, { DB_HELD, "in_use" },
		};
		for (unsigned l = 0; l < 4; l++) {
			fprintf(f, ", \"%s\": [", lists[l].key);
			for (int j = 0, k = 0; j < r.n; j++)
				if (r.kind[j] == lists[l].k) {
					fputs(k++ ? ", " : "", f);
					json_str(f, r.text[j]);
				}
			fputc(']', f);
		}
		fputs(", \"physfn\": ", f);
		if (d->physfn[0])
			json_str(f, d->physfn);
		else
			fputs("null", f);
		fprintf(f, ", \"sriov_totalvfs\": %d, \"vfs\": [", d->sriov_total);
		for (int v = 0; v < d->nb_vfs; v++) {
			struct db_dev vf;
			char use[200];
			bool free_ = vf_free(o, d->vfs[v], &vf, use, sizeof(use));
			fprintf(f, "%s{\"address\": ", v ? ", " : "");
			json_str(f, d->vfs[v]);
			fputs(", \"driver\": ", f);
			if (vf.driver[0])
				json_str(f, vf.driver);
			else
				fputs("null", f);
			fprintf(f, ", \"free\": %s, \"in_use\": ", free_ ? "true" : "false");
			json_str(f, use);
			fputc('}', f);
		}
		fputc(']', f);
		snprintf(buf, sizeof(buf), "%d", d->iommu_group);
		fprintf(f, ", \"iommu_group\": %s, \"numa_node\": %d}", d->iommu_group >= 0 ? buf : "null",
			d->numa_node);
	}
	fputs("\n]\n", f);
}

static void status_row(const struct db_opts *o, struct db_dev *d)
{
	struct db_reasons r;
	char use[256];
	db_safety(o, d, &r);
	db_holders(o, d, &r);
	usable(o, d, use, sizeof(use));
	fprintf(o->out, "  %s  %s [%04x:%04x]\n      driver %s, could use %s", d->addr,
		d->name[0] ? d->name : "unknown device", d->vendor, d->device,
		d->driver[0] ? d->driver : "none", use);
	for (int j = 0; j < d->nb_ifaces; j++) {
		char sum[160];
		db_iface_summary(o, d->ifaces[j], sum, sizeof(sum));
		fprintf(o->out, "; interface %s (%s)", d->ifaces[j], sum);
	}
	if (d->iommu_group >= 0)
		fprintf(o->out, "; iommu group %d", d->iommu_group);
	if (d->numa_node >= 0)
		fprintf(o->out, "; numa node %d", d->numa_node);
	fputc('\n', o->out);
	if (d->physfn[0])
		fprintf(o->out, "      SR-IOV virtual function of %s\n", d->physfn);
	if (d->sriov_total > 0) {
		fprintf(o->out, "      SR-IOV physical function: %d of %d virtual functions%s\n", d->nb_vfs,
			d->sriov_total, d->nb_vfs ? "" : " (make some: echo N > /sys/bus/pci/devices/ADDR/sriov_numvfs)");
		for (int v = 0; v < d->nb_vfs; v++) {
			struct db_dev vf;
			char vuse[200];
			bool free_ = vf_free(o, d->vfs[v], &vf, vuse, sizeof(vuse));
			fprintf(o->out, "        %s  %s, %s%s", d->vfs[v], vf.driver[0] ? vf.driver : "no driver",
				free_ ? "free" : "in use: ", free_ ? "" : vuse);
			if (vf.iommu_group >= 0)
				fprintf(o->out, "; iommu group %d", vf.iommu_group);
			fputc('\n', o->out);
		}
	}
	/* the labels, by kind: DB_ACTIVE, DB_NEVER, DB_WARN, DB_HELD */
	static const char *const label[] = { "active", "never bound", "warning", "in use" };
	if (r.n == db_reasons_count(&r, DB_WARN) && (db_is_network(d) || db_is_storage(d)))
		fprintf(o->out, "      not active: safe to bind\n");
	for (int j = 0; j < r.n; j++)
		fprintf(o->out, "      %s: %s\n", label[r.kind[j]], r.text[j]);
}

int db_cmd_status(const struct db_opts *o)
{
	struct db_dev *devs;
	int n = db_dev_scan(o, &devs);
	if (n < 0) {
		fprintf(o->err, "bypass: cannot read %s/bus/pci/devices: %s; is sysfs mounted there?\n", o->sysfs,
			strerror(-n));
		return 1;
	}
	if (o->json) {
		status_json(o, devs, n);
		free(devs);
		return 0;
	}
	static const struct { const char *kind, *title; } groups[] = {
		{ "kernel", "Network devices on a kernel driver" },
		{ "user", "Network devices on a user-space driver" },
		{ "none", "Network devices on no driver" },
	};
	for (unsigned g = 0; g < 3; g++) {
		fprintf(o->out, "%s%s\n", g ? "\n" : "", groups[g].title);
		int shown = 0;
		for (int i = 0; i < n; i++)
			if (db_is_network(&devs[i]) && !strcmp(kind(&devs[i]), groups[g].kind)) {
				status_row(o, &devs[i]);
				shown++;
			}
		if (!shown)
			fprintf(o->out, "  (none)\n");
	}
	if (o->all) {
		fprintf(o->out, "\nOther devices\n");
		for (int i = 0; i < n; i++)
			if (!db_is_network(&devs[i]))
				status_row(o, &devs[i]);
	}
	free(devs);
	return 0;
}

