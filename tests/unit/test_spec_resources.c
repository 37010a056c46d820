/* linux.resources in config.json and `update --resources` files. */
#include "spec_test.h"

#define RES(body) CONFIG(",\"linux\":{\"resources\":{" body "}}")

static struct husk_spec *res_ok(const char *json)
{
	struct husk_spec *s = parse_ok(json);
	assert_non_null(s->linux.resources);
	return s;
}

static void device_rules(void **state)
{
	struct husk_spec *s = res_ok(
	    RES("\"devices\":[{\"allow\":false,\"access\":\"rwm\"},{\"allow\":true,\"type\":\"c\","
		"\"major\":1,\"minor\":3,\"access\":\"rw\"},{\"allow\":true,\"type\":\"b\","
		"\"major\":8}]"));
	const struct husk_device_rule *d = s->linux.resources->devices;
	assert_int_equal(s->linux.resources->n_devices, 3);
	assert_false(d[0].allow);
	assert_int_equal(d[0].type, 'a');
	assert_int_equal(d[0].major, -1);
	assert_int_equal(d[0].minor, -1);
	assert_string_equal(d[0].access, "rwm");
	assert_true(d[1].allow);
	assert_int_equal(d[1].type, 'c');
	assert_int_equal(d[1].major, 1);
	assert_int_equal(d[1].minor, 3);
	assert_string_equal(d[1].access, "rw");
	assert_int_equal(d[2].type, 'b');
	assert_int_equal(d[2].minor, -1);
	assert_string_equal(d[2].access, "rwm");
	husk_spec_free(s);
}

static void memory(void **state)
{
	struct husk_spec *s = res_ok(
	    RES("\"memory\":{\"limit\":1048576,\"reservation\":524288,\"swap\":-1,\"kernel\":0,"
		"\"kernelTCP\":4096,\"swappiness\":60,\"disableOOMKiller\":true,"
		"\"useHierarchy\":false,\"checkBeforeUpdate\":true}"));
	const struct husk_memory *m = &s->linux.resources->memory;
	assert_true(s->linux.resources->has_memory);
	assert_true(m->limit.set);
	assert_int_equal(m->limit.v, 1048576);
	assert_int_equal(m->reservation.v, 524288);
	assert_true(m->swap.set);
	assert_int_equal(m->swap.v, -1);
	assert_true(m->kernel.set);
	assert_int_equal(m->kernel_tcp.v, 4096);
	assert_true(m->swappiness.set);
	assert_int_equal(m->swappiness.v, 60);
	assert_true(m->has_disable_oom_killer);
	assert_true(m->disable_oom_killer);
	assert_true(m->has_use_hierarchy);
	assert_false(m->use_hierarchy);
	assert_true(m->check_before_update);
	husk_spec_free(s);
}

static void memory_absent_fields(void **state)
{
	struct husk_spec *s = res_ok(RES("\"memory\":{\"limit\":0}"));
	const struct husk_memory *m = &s->linux.resources->memory;
	assert_true(m->limit.set);
	assert_int_equal(m->limit.v, 0);
	assert_false(m->swap.set);
	assert_false(m->swappiness.set);
	assert_false(m->has_disable_oom_killer);
	assert_false(s->linux.resources->has_cpu);
	husk_spec_free(s);
}

/* Engines that model swappiness as int64 write -1 for "kernel default",
 * which reaches the uint64 field as its maximum; runc treats it as unset. */
static void swappiness_minus_one(void **state)
{
	struct husk_spec *s = res_ok(RES("\"memory\":{\"swappiness\":18446744073709551615}"));
	assert_false(s->linux.resources->memory.swappiness.set);
	husk_spec_free(s);
}

static void cpu(void **state)
{
	struct husk_spec *s =
	    res_ok(RES("\"cpu\":{\"shares\":1024,\"quota\":50000,\"burst\":1000,\"period\":100000,"
		       "\"realtimeRuntime\":950000,\"realtimePeriod\":1000000,\"cpus\":\"0-1\","
		       "\"mems\":\"0\",\"idle\":1}"));
	const struct husk_cpu *c = &s->linux.resources->cpu;
	assert_true(s->linux.resources->has_cpu);
	assert_int_equal(c->shares.v, 1024);
	assert_int_equal(c->quota.v, 50000);
	assert_int_equal(c->burst.v, 1000);
	assert_int_equal(c->period.v, 100000);
	assert_int_equal(c->realtime_runtime.v, 950000);
	assert_int_equal(c->realtime_period.v, 1000000);
	assert_string_equal(c->cpus, "0-1");
	assert_string_equal(c->mems, "0");
	assert_true(c->idle.set);
	assert_int_equal(c->idle.v, 1);
	husk_spec_free(s);
}

static void pids(void **state)
{
	struct husk_spec *s = res_ok(RES("\"pids\":{\"limit\":100}"));
	assert_true(s->linux.resources->pids_limit.set);
	assert_int_equal(s->linux.resources->pids_limit.v, 100);
	husk_spec_free(s);
}

static void block_io(void **state)
{
	struct husk_spec *s = res_ok(RES(
	    "\"blockIO\":{\"weight\":500,\"leafWeight\":300,\"weightDevice\":[{\"major\":8,"
	    "\"minor\":0,\"weight\":200}],\"throttleReadBpsDevice\":[{\"major\":8,\"minor\":0,"
	    "\"rate\":1000}],\"throttleWriteBpsDevice\":[{\"major\":8,\"minor\":1,\"rate\":2000}],"
	    "\"throttleReadIOPSDevice\":[{\"major\":8,\"minor\":2,\"rate\":30}],"
	    "\"throttleWriteIOPSDevice\":[{\"major\":8,\"minor\":3,\"rate\":40}]}"));
	const struct husk_blkio *b = &s->linux.resources->blkio;
	assert_true(s->linux.resources->has_blkio);
	assert_true(b->has_weight);
	assert_int_equal(b->weight, 500);
	assert_int_equal(b->leaf_weight, 300);
	assert_int_equal(b->n_weight_devices, 1);
	assert_true(b->weight_devices[0].has_weight);
	assert_false(b->weight_devices[0].has_leaf_weight);
	assert_int_equal(b->weight_devices[0].weight, 200);
	assert_int_equal(b->read_bps.n, 1);
	assert_int_equal(b->read_bps.v[0].rate, 1000);
	assert_int_equal(b->write_bps.v[0].minor, 1);
	assert_int_equal(b->read_iops.v[0].rate, 30);
	assert_int_equal(b->write_iops.v[0].rate, 40);
	husk_spec_free(s);
}

static void hugepages_network_rdma_unified(void **state)
{
	struct husk_spec *s = res_ok(RES(
	    "\"hugepageLimits\":[{\"pageSize\":\"2MB\",\"limit\":209715200}],"
	    "\"network\":{\"classID\":1048577,\"priorities\":[{\"name\":\"eth0\",\"priority\":5}]},"
	    "\"rdma\":{\"mlx5_1\":{\"hcaHandles\":3,\"hcaObjects\":10000}},"
	    "\"unified\":{\"memory.high\":\"1G\",\"io.weight\":\"100\"}"));
	const struct husk_resources *r = s->linux.resources;
	assert_int_equal(r->n_hugepages, 1);
	assert_string_equal(r->hugepages[0].page_size, "2MB");
	assert_int_equal(r->hugepages[0].limit, 209715200);
	assert_true(r->has_net_class_id);
	assert_int_equal(r->net_class_id, 1048577);
	assert_int_equal(r->n_net_priorities, 1);
	assert_string_equal(r->net_priorities[0].name, "eth0");
	assert_int_equal(r->net_priorities[0].priority, 5);
	assert_int_equal(r->n_rdma, 1);
	assert_string_equal(r->rdma[0].device, "mlx5_1");
	assert_true(r->rdma[0].has_hca_handles);
	assert_int_equal(r->rdma[0].hca_objects, 10000);
	assert_int_equal(r->unified.n, 2);
	assert_string_equal(r->unified.v[0].key, "memory.high");
	assert_string_equal(r->unified.v[0].value, "1G");
	husk_spec_free(s);
}

static void update_resources_file(void **state)
{
	const char *json = "{\"memory\":{\"limit\":1000000},\"pids\":{\"limit\":-1}}";
	struct husk_err err = {0};
	struct husk_resources *r = husk_resources_parse(json, strlen(json), &err);
	assert_non_null(r);
	assert_true(r->has_memory);
	assert_int_equal(r->memory.limit.v, 1000000);
	assert_int_equal(r->pids_limit.v, -1);
	husk_resources_free(r);
}

static void update_resources_errors(void **state)
{
	const char *j1 = "{\"memory\":{\"swappiness\":101}}";
	const char *j2 = "{\"cpu\":{\"shares\":\"x\"}}";
	const char *j3 = "{\"devices\":[{\"allow\":true,\"access\":\"rwx\"}]}";
	struct husk_err err = {0};
	assert_null(husk_resources_parse(j1, strlen(j1), &err));
	assert_string_equal(err.msg,
			    "linux.resources.memory.swappiness: must be between 0 and 100");
	assert_null(husk_resources_parse(j2, strlen(j2), &err));
	assert_string_equal(err.msg, "linux.resources.cpu.shares: must be an integer");
	assert_null(husk_resources_parse(j3, strlen(j3), &err));
	assert_string_equal(err.msg, "linux.resources.devices[0].access: invalid access \"rwx\" "
				     "(want a subset of rwm)");
	assert_null(husk_resources_parse("{", 1, &err));
	assert_string_equal(err.msg, "resources: line 1 column 1: string or '}' expected near end "
				     "of file");
}

RUN(cmocka_unit_test(device_rules), cmocka_unit_test(memory),
    cmocka_unit_test(memory_absent_fields), cmocka_unit_test(swappiness_minus_one),
    cmocka_unit_test(cpu), cmocka_unit_test(pids), cmocka_unit_test(block_io),
    cmocka_unit_test(hugepages_network_rdma_unified), cmocka_unit_test(update_resources_file),
    cmocka_unit_test(update_resources_errors))
