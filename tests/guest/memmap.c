/* memmap: the multiboot memory map (from the firmware's E820).  Checks
 * conventional RAM below 640K, the legacy hole, RAM from 1 MiB, RAM above
 * 4 GiB starting at 0x100000000 when -m is large, no overlaps, and then
 * writes/reads patterns at both ends of every reported RAM region.
 * Long mode (identity map 0..16 GiB).  Optional -append "mem_mb=N". */
#include "lib.h"

TEST("memmap");

#define MAX_REG 64
#define MAPPED_LIMIT (16ull << 30)
struct region { uint64_t start, end; uint32_t type; };  /* [start, end) */
static struct region reg[MAX_REG];
static int nreg;

extern char __image_start[], __image_end[];

static bool overlaps(uint64_t a0, uint64_t a1, uint64_t b0, uint64_t b1)
{
    return a0 < b1 && b0 < a1;
}

/* pattern-test 4 KiB at [a, a+4096) (clamped into [lo, hi)), restoring the contents */
static void probe(uint64_t a, uint64_t lo, uint64_t hi)
{
    if (a < lo) a = lo;
    if (a + 4096 > hi) a = hi - 4096;
    a &= ~7ull;
    if (a < lo) return;
    /* never touch our image, the multiboot info or page 0 */
    if (overlaps(a, a + 4096, (uintptr_t)__image_start, (uintptr_t)__image_end)) return;
    if (overlaps(a, a + 4096, 0, 0x1000)) return;
    if (mb_info && overlaps(a, a + 4096, (uintptr_t)mb_info, (uintptr_t)mb_info + sizeof(*mb_info))) return;
    if (mb_info && overlaps(a, a + 4096, mb_info->mmap_addr, mb_info->mmap_addr + mb_info->mmap_length)) return;
    if (mb_info && overlaps(a, a + 4096, mb_info->cmdline, mb_info->cmdline + 256)) return;
    if (a + 4096 > MAPPED_LIMIT) fail("region end 0x%llx beyond the 16 GiB identity map", (unsigned long long)a);
    static uint64_t save[512];
    volatile uint64_t *p = (volatile uint64_t *)(uintptr_t)a;
    for (int i = 0; i < 512; i++) save[i] = p[i];
    static const uint64_t pats[] = { 0x5555555555555555ull, 0xaaaaaaaaaaaaaaaaull, 0, ~0ull };
    for (unsigned k = 0; k < ARRAY_SIZE(pats) + 1; k++) {
        for (int i = 0; i < 512; i++)
            p[i] = k < ARRAY_SIZE(pats) ? pats[k] : (a + 8 * i) ^ 0xdeadbeef00000000ull;
        for (int i = 0; i < 512; i++) {
            uint64_t want = k < ARRAY_SIZE(pats) ? pats[k] : (a + 8 * i) ^ 0xdeadbeef00000000ull;
            uint64_t got = p[i];
            if (got != want)
                fail("RAM at 0x%llx: wrote 0x%016llx read 0x%016llx", (unsigned long long)(a + 8 * i),
                     (unsigned long long)want, (unsigned long long)got);
        }
    }
    /* byte lanes */
    volatile uint8_t *b = (volatile uint8_t *)p;
    for (int i = 0; i < 64; i++) b[i] = (uint8_t)(i * 37 + 1);
    for (int i = 0; i < 64; i++)
        CHECK(b[i] == (uint8_t)(i * 37 + 1), "byte at 0x%llx mismatch", (unsigned long long)(a + i));
    for (int i = 0; i < 512; i++) p[i] = save[i];
}

void test_main(void)
{
    CHECK(mb_info, "not booted by a multiboot loader");
    CHECK(mb_info->flags & (1 << 0), "multiboot flags 0x%x: no mem_lower/mem_upper", mb_info->flags);
    CHECK(mb_info->flags & (1 << 6), "multiboot flags 0x%x: no memory map", mb_info->flags);
    printf("mem_lower %u KiB, mem_upper %u KiB, mmap at 0x%x len %u\n", mb_info->mem_lower, mb_info->mem_upper,
           mb_info->mmap_addr, mb_info->mmap_length);

    for (uintptr_t p = mb_info->mmap_addr; p < mb_info->mmap_addr + mb_info->mmap_length; ) {
        struct mb_mmap_entry *e = (void *)p;
        CHECK(e->size >= 20, "mmap entry size %u < 20", e->size);
        printf("  0x%010llx-0x%010llx type %u\n", (unsigned long long)e->addr,
               (unsigned long long)(e->addr + e->len - 1), e->type);
        CHECK(nreg < MAX_REG, "too many mmap entries");
        if (e->len) {
            reg[nreg].start = e->addr;
            reg[nreg].end = e->addr + e->len;
            reg[nreg].type = e->type;
            CHECK(reg[nreg].end > reg[nreg].start, "mmap entry wraps around");
            nreg++;
        }
        p += e->size + 4;
    }
    /* sort by start, then check overlaps */
    for (int i = 0; i < nreg; i++)
        for (int j = i + 1; j < nreg; j++)
            if (reg[j].start < reg[i].start) { struct region t = reg[i]; reg[i] = reg[j]; reg[j] = t; }
    for (int i = 1; i < nreg; i++)
        CHECK(reg[i].start >= reg[i - 1].end, "regions overlap: 0x%llx-0x%llx and 0x%llx-0x%llx",
              (unsigned long long)reg[i - 1].start, (unsigned long long)reg[i - 1].end,
              (unsigned long long)reg[i].start, (unsigned long long)reg[i].end);

    /* conventional memory */
    struct region *low = NULL, *ext = NULL, *high = NULL;
    uint64_t ram_total = 0, ram_below4g = 0, ram_above4g = 0;
    for (int i = 0; i < nreg; i++) {
        struct region *r = &reg[i];
        if (r->type != 1) continue;
        ram_total += r->end - r->start;
        if (r->start >= 0x100000000ull) ram_above4g += r->end - r->start;
        else ram_below4g += r->end - r->start;
        if (r->start == 0) low = r;
        if (r->start == 0x100000) ext = r;
        if (r->start == 0x100000000ull) high = r;
        CHECK(!overlaps(r->start, r->end, 0xa0000, 0x100000), "RAM region 0x%llx-0x%llx overlaps the 640K-1M hole",
              (unsigned long long)r->start, (unsigned long long)r->end);
        CHECK(!overlaps(r->start, r->end, 0xfec00000, 0xfee01000), "RAM region overlaps IOAPIC/LAPIC MMIO");
        CHECK(!overlaps(r->start, r->end, 0xfffc0000, 0x100000000ull), "RAM region overlaps the BIOS ROM");
    }
    CHECK(low, "no usable RAM region starting at 0");
    CHECK(low->end >= 0x80000 && low->end <= 0xa0000, "conventional RAM ends at 0x%llx", (unsigned long long)low->end);
    CHECK(mb_info->mem_lower == low->end / 1024, "mem_lower %u KiB != map %llu KiB", mb_info->mem_lower,
          (unsigned long long)(low->end / 1024));
    CHECK(ext, "no usable RAM region starting at 1 MiB");
    CHECK(mb_info->mem_upper == (ext->end - ext->start) / 1024, "mem_upper %u KiB != map %llu KiB",
          mb_info->mem_upper, (unsigned long long)((ext->end - ext->start) / 1024));
    CHECK(ext->end <= 0x100000000ull, "1 MiB region crosses 4 GiB");
    printf("RAM: %llu KiB total, %llu KiB below 4G, %llu KiB above 4G\n", (unsigned long long)(ram_total >> 10),
           (unsigned long long)(ram_below4g >> 10), (unsigned long long)(ram_above4g >> 10));
    if (ram_above4g)
        CHECK(high, "RAM above 4G but no region starting at 0x100000000");

    uint64_t mem_mb;
    if (cmdline_u64("mem_mb", &mem_mb)) {
        uint64_t mem = mem_mb << 20;
        /* firmware reserves at most a couple of MiB (EBDA, BIOS, its tables) */
        CHECK(ram_total <= mem && mem - ram_total <= (2u << 20) + 0x60000,
              "usable RAM %llu KiB does not match -m %llu MiB", (unsigned long long)(ram_total >> 10),
              (unsigned long long)mem_mb);
        if (mem > 0xe0000000ull) {
            CHECK(high, "-m %llu MiB but no RAM region at 0x100000000", (unsigned long long)mem_mb);
            uint64_t below = ext->end;      /* top of low RAM (minus firmware reservations) */
            uint64_t above = high->end - high->start;
            CHECK(below + above <= mem && mem - (below + above) <= (2u << 20),
                  "low RAM top 0x%llx + high RAM 0x%llx != -m %llu MiB", (unsigned long long)below,
                  (unsigned long long)above, (unsigned long long)mem_mb);
        } else {
            CHECK(!ram_above4g, "RAM above 4G with only %llu MiB", (unsigned long long)mem_mb);
        }
    }

    /* pattern tests at the ends of every RAM region */
    unsigned probes = 0;
    for (int i = 0; i < nreg; i++) {
        struct region *r = &reg[i];
        if (r->type != 1 || r->end - r->start < 8192) continue;
        probe(r->start, r->start, r->end);
        probe(r->end - 4096, r->start, r->end);
        probe(r->start + (r->end - r->start) / 2, r->start, r->end);
        probes += 3;
        printf("  patterns ok at start/middle/end of 0x%llx-0x%llx\n", (unsigned long long)r->start,
               (unsigned long long)r->end);
    }
    /* regions are distinct memory: write a tag at the start of each RAM region's last page, then verify all */
    for (int i = 0; i < nreg; i++)
        if (reg[i].type == 1 && reg[i].end - reg[i].start >= 8192)
            *(volatile uint64_t *)(uintptr_t)(reg[i].end - 4096) = 0x7a67000000000000ull | i;
    for (int i = 0; i < nreg; i++)
        if (reg[i].type == 1 && reg[i].end - reg[i].start >= 8192)
            CHECK(*(volatile uint64_t *)(uintptr_t)(reg[i].end - 4096) == (0x7a67000000000000ull | i),
                  "tag at end of region %d overwritten: aliasing between regions", i);
    pass();
}
