/* fwcfg: QEMU fw_cfg interface (I/O 0x510/0x511, DMA 0x514).
 * Optional -append "mem_mb=N cpus=N" for exact RAM_SIZE / NB_CPUS checks. */
#include "lib.h"

TEST("fwcfg");

static struct fw_cfg_file dir_pio[128], dir_dma[128];
static uint8_t e820[64 * 20], e820_dma[64 * 20];

static bool memchr_nul(const char *s)
{
    for (int i = 0; i < 56; i++)
        if (!s[i]) return true;
    return false;
}

struct e820_entry { uint64_t addr, len; uint32_t type; } __attribute__((packed));

void test_main(void)
{
    char sig[5] = { 0 };
    fw_cfg_read_item(FW_CFG_SIGNATURE, sig, 4);
    CHECK(!memcmp(sig, "QEMU", 4), "signature \"%s\" != \"QEMU\"", sig);
    uint32_t id = fw_cfg_read32(FW_CFG_ID);
    printf("signature QEMU, id 0x%x (traditional %s, DMA %s)\n", id, (id & 1) ? "yes" : "no", (id & 2) ? "yes" : "no");
    CHECK(id & 1, "FW_CFG_ID bit 0 (traditional interface) clear");

    /* re-selecting restarts at offset 0; reading past the end returns 0 */
    char sig2[4];
    fw_cfg_select(FW_CFG_SIGNATURE);
    fw_cfg_read(sig2, 2);
    fw_cfg_select(FW_CFG_SIGNATURE);
    fw_cfg_read(sig2, 4);
    CHECK(!memcmp(sig2, "QEMU", 4), "re-select did not reset the data offset");
    uint8_t past[4];
    fw_cfg_read(past, 4);
    CHECK(!past[0] && !past[1] && !past[2] && !past[3], "read past end of signature item not zero");

    /* RAM size and CPU count */
    uint64_t ram = fw_cfg_read64(FW_CFG_RAM_SIZE);
    uint16_t ncpu, maxcpu;
    fw_cfg_read_item(FW_CFG_NB_CPUS, &ncpu, 2);
    fw_cfg_read_item(FW_CFG_MAX_CPUS, &maxcpu, 2);
    printf("RAM_SIZE %llu MiB, NB_CPUS %u, MAX_CPUS %u\n", (unsigned long long)(ram >> 20), ncpu, maxcpu);
    uint64_t v;
    if (cmdline_u64("mem_mb", &v))
        CHECK(ram == v << 20, "FW_CFG_RAM_SIZE %llu MiB != -m %llu", (unsigned long long)(ram >> 20), (unsigned long long)v);
    if (cmdline_u64("cpus", &v))
        CHECK(ncpu == v, "FW_CFG_NB_CPUS %u != -smp %llu", ncpu, (unsigned long long)v);
    CHECK(ncpu >= 1 && maxcpu >= ncpu, "NB_CPUS %u / MAX_CPUS %u inconsistent", ncpu, maxcpu);
    struct platform_info pi;
    if (madt_parse(&pi))
        CHECK(pi.ncpus == ncpu, "MADT lists %d CPUs but NB_CPUS is %u", pi.ncpus, ncpu);

    /* file directory */
    uint32_t count;
    fw_cfg_select(FW_CFG_FILE_DIR);
    fw_cfg_read(&count, 4);
    count = bswap32(count);
    printf("file directory: %u entries\n", count);
    CHECK(count > 0 && count <= ARRAY_SIZE(dir_pio), "file count %u implausible", count);
    fw_cfg_read(dir_pio, count * sizeof(struct fw_cfg_file));
    for (uint32_t i = 0; i < count; i++) {
        struct fw_cfg_file *f = &dir_pio[i];
        printf("  0x%04x %6u %s\n", bswap16(f->select), bswap32(f->size), f->name);
        CHECK(memchr_nul(f->name), "file %u name not NUL-terminated", i);
        CHECK(bswap16(f->select) >= 0x20, "file %s has select 0x%x below FW_CFG_FILE_FIRST", f->name, bswap16(f->select));
        if (i)
            CHECK(strcmp(dir_pio[i - 1].name, f->name) < 0, "file directory not sorted: \"%s\" before \"%s\"",
                  dir_pio[i - 1].name, f->name);
    }

    /* etc/e820 vs the multiboot memory map */
    uint32_t esz;
    uint16_t ekey = fw_cfg_find_file("etc/e820", &esz);
    CHECK(ekey, "etc/e820 not in the file directory");
    CHECK(esz % 20 == 0 && esz <= sizeof(e820), "etc/e820 size %u not a multiple of 20", esz);
    fw_cfg_read_item(ekey, e820, esz);
    uint64_t ram_e820 = 0;
    for (uint32_t i = 0; i < esz / 20; i++) {
        struct e820_entry *e = (void *)(e820 + 20 * i);
        printf("  e820: 0x%010llx-0x%010llx type %u\n", (unsigned long long)e->addr,
               (unsigned long long)(e->addr + e->len - 1), e->type);
        if (e->type == 1) ram_e820 += e->len;
    }
    CHECK(ram_e820 == ram, "etc/e820 RAM total %llu KiB != RAM_SIZE %llu KiB",
          (unsigned long long)(ram_e820 >> 10), (unsigned long long)(ram >> 10));
    CHECK(mb_info && (mb_info->flags & (1 << 6)), "no multiboot memory map");
    uint64_t mb_ram = 0;
    for (uintptr_t p = mb_info->mmap_addr; p < mb_info->mmap_addr + mb_info->mmap_length; ) {
        struct mb_mmap_entry *m = (void *)p;
        p += m->size + 4;
        if (m->type != 1) continue;
        mb_ram += m->len;
        /* every multiboot RAM range lies inside an etc/e820 RAM range */
        bool inside = false;
        for (uint32_t i = 0; i < esz / 20; i++) {
            struct e820_entry *e = (void *)(e820 + 20 * i);
            if (e->type == 1 && m->addr >= e->addr && m->addr + m->len <= e->addr + e->len) inside = true;
        }
        CHECK(inside, "multiboot RAM 0x%llx+0x%llx not covered by etc/e820 RAM", (unsigned long long)m->addr,
              (unsigned long long)m->len);
    }
    /* the firmware may reserve a little (EBDA, BIOS area, its own tables) but not more than 2 MiB */
    printf("RAM: multiboot %llu KiB, etc/e820 %llu KiB\n", (unsigned long long)(mb_ram >> 10),
           (unsigned long long)(ram_e820 >> 10));
    CHECK(mb_ram <= ram_e820 && ram_e820 - mb_ram <= (2u << 20), "multiboot RAM %llu KiB vs etc/e820 %llu KiB",
          (unsigned long long)(mb_ram >> 10), (unsigned long long)(ram_e820 >> 10));

    /* DMA interface */
    if (id & 2) {
        uint32_t hi = bswap32(inl(0x514)), lo = bswap32(inl(0x518));
        printf("DMA register reads 0x%08x%08x\n", hi, lo);
        CHECK(hi == 0x51454d55 && lo == 0x20434647, "DMA port signature 0x%08x%08x != \"QEMU CFG\"", hi, lo);
        char dsig[8] = { 0 };
        CHECK(fw_cfg_dma_read(FW_CFG_SIGNATURE, dsig, 4), "DMA read of signature failed/timed out");
        CHECK(!memcmp(dsig, "QEMU", 4), "DMA signature \"%s\"", dsig);
        uint32_t dcount;
        CHECK(fw_cfg_dma_read(FW_CFG_FILE_DIR, &dcount, 4), "DMA read of file count failed");
        CHECK(bswap32(dcount) == count, "DMA file count %u != %u", bswap32(dcount), count);
        /* continue from the current offset without re-selecting */
        CHECK(fw_cfg_dma_read(0xffff, dir_dma, count * sizeof(struct fw_cfg_file)), "DMA read of directory failed");
        CHECK(!memcmp(dir_dma, dir_pio, count * sizeof(struct fw_cfg_file)), "DMA directory differs from PIO");
        CHECK(fw_cfg_dma_read(ekey, e820_dma, esz), "DMA read of etc/e820 failed");
        CHECK(!memcmp(e820_dma, e820, esz), "DMA etc/e820 differs from PIO");
        uint64_t dram;
        CHECK(fw_cfg_dma_read(FW_CFG_RAM_SIZE, &dram, 8) && dram == ram, "DMA RAM_SIZE mismatch");
        printf("DMA reads match PIO reads\n");
    } else {
        printf("DMA interface not advertised; skipped\n");
    }
    pass();
}
