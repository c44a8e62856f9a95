/*
 * Multiboot v1 entry.  The image is always ELF32 (QEMU's multiboot loader
 * rejects ELF64); 64-bit builds are linked as ELF64 and converted with
 * objcopy -O elf32-i386, all addresses being below 4 GiB.
 *
 * 32-bit build: load our GDT, stay in flat protected mode, call lib_start.
 * 64-bit build: additionally identity-map 0..16 GiB with 2 MiB pages
 * (3..4 GiB marked PCD|PWT), enable PAE + EFER.LME + PG, far jump to the
 * 64-bit code segment and call lib_start(magic, mbi).
 */
#define MB_HDR_MAGIC 0x1BADB002
#define MB_HDR_FLAGS 0x00000003     /* page-align modules, want memory info */

#define SEL_CODE32 0x08
#define SEL_DATA   0x10
#define SEL_CODE64 0x18

    .section .multiboot, "a"
    .balign 4
    .long MB_HDR_MAGIC
    .long MB_HDR_FLAGS
    .long -(MB_HDR_MAGIC + MB_HDR_FLAGS)

    .section .data
    .balign 16
    .globl gdt
gdt:
    .quad 0
    .quad 0x00cf9a000000ffff        /* 0x08 code32 */
    .quad 0x00cf92000000ffff        /* 0x10 data   */
    .quad 0x00af9a000000ffff        /* 0x18 code64 */
gdt_end:
    .globl gdt_desc
gdt_desc:
    .word gdt_end - gdt - 1
    .long gdt, 0

    .section .bss
    .balign 16
boot_stack:
    .skip 32768
boot_stack_top:
#ifdef __x86_64__
    .balign 4096
    .globl pml4
pml4:   .skip 4096
pdpt:   .skip 4096
pds:    .skip 4096 * 16             /* 16 page directories = 16 GiB */
#endif

    .section .text
    .code32
    .globl _start
_start:
    cli
    cld
    movl %eax, %edx                 /* multiboot magic */
    /* zero .bss (stack, page tables) - don't rely on the loader */
    movl $__bss_start, %edi
    movl $__bss_end, %ecx
    subl %edi, %ecx
    xorl %eax, %eax
    rep stosb
    movl $boot_stack_top, %esp
    movl %edx, %edi                 /* multiboot magic */
    movl %ebx, %esi                 /* multiboot info  */
    lgdt gdt_desc
    ljmp $SEL_CODE32, $1f
1:  movw $SEL_DATA, %ax
    movw %ax, %ds
    movw %ax, %es
    movw %ax, %fs
    movw %ax, %gs
    movw %ax, %ss

#ifndef __x86_64__
    pushl %esi
    pushl %edi
    call lib_start
2:  cli
    hlt
    jmp 2b
#else
    /* PML4[0] -> PDPT; PDPT[0..15] -> PDs */
    movl $pdpt, %eax
    orl $3, %eax
    movl %eax, pml4
    movl $0, pml4 + 4
    xorl %ecx, %ecx
3:  movl %ecx, %eax
    shll $12, %eax
    addl $pds, %eax
    orl $3, %eax
    movl %eax, pdpt(,%ecx,8)
    movl $0, pdpt + 4(,%ecx,8)
    incl %ecx
    cmpl $16, %ecx
    jb 3b
    /* PD entries: 8192 x 2 MiB */
    xorl %ecx, %ecx
4:  movl %ecx, %eax
    shll $21, %eax
    orl $0x83, %eax                 /* P | RW | PS */
    cmpl $1536, %ecx
    jb 5f
    cmpl $2048, %ecx
    jae 5f
    orl $0x18, %eax                 /* PWT | PCD for 3..4 GiB (MMIO hole) */
5:  movl %eax, pds(,%ecx,8)
    movl %ecx, %eax
    shrl $11, %eax
    movl %eax, pds + 4(,%ecx,8)
    incl %ecx
    cmpl $8192, %ecx
    jb 4b

    .globl enter_long_mode_common
enter_long_mode_common:
    movl %cr4, %eax
    orl $(1 << 5) | (1 << 9) | (1 << 10), %eax   /* PAE, OSFXSR, OSXMMEXCPT */
    movl %eax, %cr4
    movl $pml4, %eax
    movl %eax, %cr3
    movl $0xc0000080, %ecx          /* EFER */
    rdmsr
    orl $(1 << 8), %eax             /* LME */
    wrmsr
    movl %cr0, %eax
    andl $~(1 << 2), %eax           /* clear EM */
    orl $(1 << 31) | (1 << 1) | 1, %eax  /* PG | MP | PE */
    movl %eax, %cr0
    ljmp $SEL_CODE64, $long_entry

    .code64
long_entry:
    movw $SEL_DATA, %ax
    movw %ax, %ds
    movw %ax, %es
    movw %ax, %ss
    movw %ax, %fs
    movw %ax, %gs
    lgdt gdt_desc                   /* reload with 64-bit base */
    movl $boot_stack_top, %esp      /* zero-extends */
    /* rdi = magic, rsi = mbi already (upper halves zero from 32-bit movs) */
    movl %edi, %edi
    movl %esi, %esi
    call lib_start
6:  cli
    hlt
    jmp 6b
#endif
